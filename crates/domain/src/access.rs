//! Roles, permissions and the "who may do what" table of SPEC.md.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Manager,
    Agent,
    HomeAgent,
    Integration,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Administrator,
        Role::Manager,
        Role::Agent,
        Role::HomeAgent,
        Role::Integration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::HomeAgent => "home_agent",
            Role::Integration => "integration",
        }
    }

    pub fn parse(s: &str) -> Result<Role, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                Invalid::new(
                    "invalid_role",
                    "unknown role; use administrator, manager, agent, home_agent or integration",
                )
            })
    }

    pub fn is_agent(self) -> bool {
        matches!(self, Role::Agent | Role::HomeAgent)
    }
}

/// Grants an administrator can give to a user on top of the role (SPEC.md "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Manager: list, search, open and edit all records; bulk actions, import, export, duplicates.
    RecordBase,
    /// Manager: delete records, merge, undo a merge, revert an import.
    DeleteRecords,
    /// See PESEL unmasked (agents) and export national IDs.
    SeeNationalIds,
    /// Agent: call history from all campaigns.
    CallHistoryAllCampaigns,
    /// Agent: details of other agents' interactions.
    OtherAgentsInteractions,
    /// Agent: tickets from other campaigns.
    TicketsOtherCampaigns,
    /// Agent: unassigned tickets.
    TicketsUnassigned,
    /// Agent: other agents' tickets.
    TicketsOtherAgents,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::RecordBase,
        Permission::DeleteRecords,
        Permission::SeeNationalIds,
        Permission::CallHistoryAllCampaigns,
        Permission::OtherAgentsInteractions,
        Permission::TicketsOtherCampaigns,
        Permission::TicketsUnassigned,
        Permission::TicketsOtherAgents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::RecordBase => "record_base",
            Permission::DeleteRecords => "delete_records",
            Permission::SeeNationalIds => "see_national_ids",
            Permission::CallHistoryAllCampaigns => "call_history_all_campaigns",
            Permission::OtherAgentsInteractions => "other_agents_interactions",
            Permission::TicketsOtherCampaigns => "tickets_other_campaigns",
            Permission::TicketsUnassigned => "tickets_unassigned",
            Permission::TicketsOtherAgents => "tickets_other_agents",
        }
    }

    pub fn parse(s: &str) -> Result<Permission, Invalid> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| Invalid::new("invalid_permission", format!("unknown permission `{s}`")))
    }
}

/// Who is asking: the user behind a session or an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub permissions: BTreeSet<Permission>,
}

/// How much of the record base an actor reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordScope {
    /// Every record.
    All,
    /// Only records having a case in a campaign the agent works in.
    AgentCampaigns,
    /// No listing at all.
    None,
}

impl Actor {
    pub fn has(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Administrator
    }

    /// Users, roles, permissions, API tokens of others, settings, the audit log.
    pub fn may_administer(&self) -> bool {
        self.is_admin()
    }

    /// Custom fields, dictionaries, campaigns, segments.
    pub fn may_configure(&self) -> bool {
        matches!(self.role, Role::Administrator | Role::Manager)
    }

    /// List and search all records, bulk actions, import, export, duplicates.
    pub fn may_use_record_base(&self) -> bool {
        self.is_admin() || (self.role == Role::Manager && self.has(Permission::RecordBase))
    }

    /// Delete records, merge, undo a merge, revert an import.
    pub fn may_delete_records(&self) -> bool {
        self.is_admin() || (self.role == Role::Manager && self.has(Permission::DeleteRecords))
    }

    /// Which records this actor may open and edit.
    pub fn record_scope(&self) -> RecordScope {
        match self.role {
            Role::Administrator => RecordScope::All,
            Role::Manager if self.has(Permission::RecordBase) => RecordScope::All,
            Role::Manager => RecordScope::None,
            Role::Agent | Role::HomeAgent => RecordScope::AgentCampaigns,
            // Integrations create and update records they identify or created.
            Role::Integration => RecordScope::All,
        }
    }

    /// Create records (cards, API, integrations).
    pub fn may_create_records(&self) -> bool {
        !matches!(self.record_scope(), RecordScope::None)
    }

    pub fn may_identify(&self) -> bool {
        true
    }

    /// Identification answers with the full card, or only ID and display name (agents).
    pub fn identify_sees_cards(&self) -> bool {
        matches!(self.record_scope(), RecordScope::All)
    }

    /// PESEL shown in full (everyone but agents without the grant).
    pub fn sees_national_ids(&self) -> bool {
        !self.role.is_agent() || self.has(Permission::SeeNationalIds)
    }

    /// Agents may not write custom fields whose definition is not editable.
    pub fn bound_by_field_flags(&self) -> bool {
        matches!(self.role, Role::Agent | Role::HomeAgent | Role::Integration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, perms: &[Permission]) -> Actor {
        Actor {
            user_id: 1,
            username: "u".into(),
            role,
            permissions: perms.iter().copied().collect(),
        }
    }

    #[test]
    fn a_manager_reaches_the_record_base_only_when_granted() {
        assert!(!actor(Role::Manager, &[]).may_use_record_base());
        assert!(actor(Role::Manager, &[Permission::RecordBase]).may_use_record_base());
        assert!(!actor(Role::Manager, &[Permission::RecordBase]).may_delete_records());
        assert!(actor(Role::Manager, &[Permission::DeleteRecords]).may_delete_records());
    }

    #[test]
    fn agents_see_records_through_campaigns_and_pesel_masked() {
        let a = actor(Role::HomeAgent, &[]);
        assert_eq!(a.record_scope(), RecordScope::AgentCampaigns);
        assert!(!a.may_use_record_base());
        assert!(!a.sees_national_ids());
        assert!(actor(Role::Agent, &[Permission::SeeNationalIds]).sees_national_ids());
    }

    #[test]
    fn roles_and_permissions_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Ok(p));
        }
        assert!(Role::parse("boss").is_err());
    }
}
