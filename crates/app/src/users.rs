//! Users, roles, permissions and API tokens (administrators only), and one's own settings.

use kartoteka_domain::access::{Permission, Role};
use kartoteka_domain::time::{now_ms, parse_zone, to_rfc3339};
use kartoteka_store::users::{self, ApiToken, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{generate_password, hash_password, random_secret, token_hash, validate_password};
use crate::{Actor, App, AppError, AppResult};

pub const LOCALES: [&str; 2] = ["en", "pl"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// administrator, manager, agent, home_agent or integration.
    pub role: String,
    pub permissions: Vec<String>,
    pub active: bool,
    /// `en` or `pl`.
    pub locale: String,
    pub time_zone: String,
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: u.role.clone(),
            permissions: u.permissions.clone(),
            active: u.active,
            locale: u.locale.clone(),
            time_zone: u.time_zone.clone(),
            created_at: to_rfc3339(u.created_at),
        }
    }
}

/// A new user. Without `password`, one is generated and returned once.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    pub password: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// Changes to a user; absent keys keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub active: Option<bool>,
    pub password: Option<String>,
    /// Required when changing one's own password.
    pub current_password: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserView,
    /// The generated password, shown this once (absent when one was given).
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub username: String,
    pub name: String,
    /// The first characters, to recognize a token.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        TokenView {
            id: t.id,
            username: t.username.clone(),
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: to_rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(to_rfc3339),
            revoked: t.revoked_at.is_some(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenView,
    /// The secret, shown this once: send it as `Authorization: Bearer …`.
    pub secret: String,
}

fn check_username(name: &str) -> AppResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "username",
            "invalid_username",
            "1 to 64 characters: letters, digits and . _ - @",
        ))
    }
}

fn check_permissions(perms: &[String]) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for p in perms {
        let p = Permission::parse(p).map_err(|e| AppError::field("permissions", e))?;
        if !out.contains(&p.as_str().to_string()) {
            out.push(p.as_str().to_string());
        }
    }
    Ok(out)
}

fn check_locale(l: &str) -> AppResult<()> {
    if LOCALES.contains(&l) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "locale",
            "invalid_locale",
            "the interface speaks en or pl",
        ))
    }
}

impl App {
    fn admin_only(actor: &Actor) -> AppResult<()> {
        if actor.may_administer() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only administrators manage users and tokens".into(),
            ))
        }
    }

    async fn user(&self, username: &str) -> AppResult<User> {
        users::by_username(&self.db.pool, username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {username}")))
    }

    pub async fn list_users(&self, actor: &Actor) -> AppResult<Vec<UserView>> {
        Self::admin_only(actor)?;
        Ok(users::list(&self.db.pool)
            .await?
            .iter()
            .map(UserView::from)
            .collect())
    }

    pub async fn get_user(&self, actor: &Actor, username: &str) -> AppResult<UserView> {
        if actor.username != username {
            Self::admin_only(actor)?;
        }
        Ok(UserView::from(&self.user(username).await?))
    }

    /// Creates a user (administrators; and the command line, which acts as the system).
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> AppResult<CreatedUser> {
        Self::admin_only(actor)?;
        check_username(&new.username)?;
        let role = Role::parse(&new.role).map_err(|e| AppError::field("role", e))?;
        let permissions = check_permissions(&new.permissions)?;
        let generated = new.password.is_none();
        let password = new.password.unwrap_or_else(generate_password);
        validate_password(&password)?;
        let locale = new.locale.unwrap_or_else(|| "en".into());
        check_locale(&locale)?;
        let time_zone = new
            .time_zone
            .unwrap_or_else(|| self.settings.zone.name().into());
        parse_zone(&time_zone).map_err(|e| AppError::field("time_zone", e))?;
        let user = User {
            id: 0,
            display_name: new
                .display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| new.username.clone()),
            username: new.username,
            email: new.email,
            // Integrations act through API tokens only: they get no password.
            password_hash: if role == Role::Integration {
                None
            } else {
                Some(hash_password(&password)?)
            },
            role: role.as_str().into(),
            permissions,
            active: true,
            locale,
            time_zone,
            created_at: now_ms(),
        };
        let mut tx = self.db.begin_write().await?;
        let id = users::insert(&mut *tx, &user).await.map_err(|e| match e {
            kartoteka_store::StoreError::Unique(_) => {
                AppError::invalid("username", "taken", "this username is taken")
            }
            e => e.into(),
        })?;
        crate::audit::record(
            &mut tx,
            actor,
            "create",
            "user",
            Some(&user.username),
            json!({"role": user.role, "permissions": user.permissions}),
        )
        .await?;
        tx.commit().await?;
        let user = User { id, ..user };
        Ok(CreatedUser {
            user: UserView::from(&user),
            password: (generated && role != Role::Integration).then_some(password),
        })
    }

    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        patch: UserPatch,
    ) -> AppResult<UserView> {
        let own = actor.username == username;
        let admin_keys =
            patch.role.is_some() || patch.permissions.is_some() || patch.active.is_some();
        if !own || admin_keys {
            Self::admin_only(actor)?;
        }
        let before = self.user(username).await?;
        if own && patch.password.is_some() {
            let current = patch.current_password.as_deref().unwrap_or_default();
            let ok = before
                .password_hash
                .as_deref()
                .is_some_and(|h| crate::auth::verify_password(current, h));
            if !ok {
                return Err(AppError::invalid(
                    "current_password",
                    "wrong_password",
                    "give your current password to change it",
                ));
            }
        }
        let mut u = before.clone();
        if let Some(d) = patch.display_name {
            u.display_name = d;
        }
        if let Some(e) = patch.email {
            u.email = Some(e).filter(|e| !e.trim().is_empty());
        }
        if let Some(r) = patch.role {
            u.role = Role::parse(&r)
                .map_err(|e| AppError::field("role", e))?
                .as_str()
                .into();
        }
        if let Some(p) = patch.permissions {
            u.permissions = check_permissions(&p)?;
        }
        if let Some(a) = patch.active {
            u.active = a;
        }
        if let Some(l) = patch.locale {
            check_locale(&l)?;
            u.locale = l;
        }
        if let Some(z) = patch.time_zone {
            parse_zone(&z).map_err(|e| AppError::field("time_zone", e))?;
            u.time_zone = z;
        }
        if let Some(p) = patch.password {
            validate_password(&p)?;
            u.password_hash = Some(hash_password(&p)?);
        }
        let stays_admin = u.role == Role::Administrator.as_str() && u.active;
        let mut tx = self.db.begin_write().await?;
        if before.role == Role::Administrator.as_str()
            && !stays_admin
            && users::count_active_admins(&mut *tx).await? <= 1
        {
            return Err(AppError::invalid(
                "role",
                "last_administrator",
                "the last active administrator must stay one",
            ));
        }
        users::update(&mut *tx, &u, now_ms()).await?;
        if !u.active || u.password_hash != before.password_hash {
            users::delete_sessions_of(&mut *tx, u.id).await?;
        }
        crate::audit::record(&mut tx, actor, "update", "user", Some(username), json!({
            "before": {"role": before.role, "permissions": before.permissions, "active": before.active, "display_name": before.display_name, "locale": before.locale},
            "after": {"role": u.role, "permissions": u.permissions, "active": u.active, "display_name": u.display_name, "locale": u.locale},
            "password_changed": u.password_hash != before.password_hash,
        })).await?;
        tx.commit().await?;
        Ok(UserView::from(&u))
    }

    pub async fn delete_user(&self, actor: &Actor, username: &str) -> AppResult<()> {
        Self::admin_only(actor)?;
        if actor.username == username {
            return Err(AppError::invalid(
                "username",
                "self",
                "you cannot delete yourself",
            ));
        }
        let u = self.user(username).await?;
        let mut tx = self.db.begin_write().await?;
        if u.role == Role::Administrator.as_str()
            && users::count_active_admins(&mut *tx).await? <= 1
        {
            return Err(AppError::invalid(
                "username",
                "last_administrator",
                "the last active administrator cannot be deleted",
            ));
        }
        users::delete(&mut *tx, u.id).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "delete",
            "user",
            Some(username),
            json!({"role": u.role}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_tokens(&self, actor: &Actor) -> AppResult<Vec<TokenView>> {
        Self::admin_only(actor)?;
        Ok(users::list_tokens(&self.db.pool, None)
            .await?
            .iter()
            .map(TokenView::from)
            .collect())
    }

    /// Creates an API token acting as `username`; the secret is returned once.
    pub async fn create_token(
        &self,
        actor: &Actor,
        username: &str,
        name: &str,
    ) -> AppResult<CreatedToken> {
        Self::admin_only(actor)?;
        let user = self.user(username).await.map_err(|_| {
            AppError::invalid("username", "not_found", format!("no user {username}"))
        })?;
        let secret = format!("kt_{}", random_secret());
        let prefix: String = secret.chars().take(10).collect();
        let name = if name.trim().is_empty() {
            "token"
        } else {
            name.trim()
        };
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let id = users::create_token(&mut *tx, user.id, name, &token_hash(&secret), &prefix, now)
            .await?;
        crate::audit::record(
            &mut tx,
            actor,
            "create",
            "api_token",
            Some(&id.to_string()),
            json!({"user": username, "name": name}),
        )
        .await?;
        tx.commit().await?;
        let token = users::token_by_id(&self.db.pool, id).await?;
        Ok(CreatedToken {
            token: TokenView::from(&token),
            secret,
        })
    }

    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> AppResult<()> {
        Self::admin_only(actor)?;
        let t = users::token_by_id(&self.db.pool, id)
            .await
            .map_err(|_| AppError::NotFound(format!("token {id}")))?;
        let mut tx = self.db.begin_write().await?;
        users::revoke_token(&mut *tx, id, now_ms()).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "revoke",
            "api_token",
            Some(&id.to_string()),
            json!({"user": t.username, "name": t.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl App {
    /// The users a filter or an assignment may name, as (ID, label), for anyone who may
    /// use the record base: active people (no integrations), labelled by name and login.
    pub async fn user_choices(&self, actor: &Actor) -> AppResult<Vec<(i64, String)>> {
        if !actor.may_use_record_base() {
            return Err(AppError::forbidden());
        }
        Ok(kartoteka_store::users::list(&self.db.pool)
            .await?
            .into_iter()
            .filter(|u| u.active && u.role != "integration")
            .map(|u| {
                let label = if u.display_name.is_empty() || u.display_name == u.username {
                    u.username
                } else {
                    format!("{} ({})", u.display_name, u.username)
                };
                (u.id, label)
            })
            .collect())
    }
}
