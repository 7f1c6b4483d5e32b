//! Who is asking: passwords (argon2), log-in with throttling, sessions, API tokens.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use kartoteka_domain::access::{Actor, Permission, Role};
use kartoteka_domain::time::now_ms;
use kartoteka_store::users::{self, User};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult};

/// A fresh random secret: 32 bytes as hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A password people can type: 20 characters from an unambiguous alphabet.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

/// SHA-256 of a token, as stored (tokens are random 256-bit values, so a fast hash is enough).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Unexpected(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    let parsed: PasswordHash = match PasswordHash::new(hash) {
        Ok(h) => h,
        Err(_) => return false,
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

pub fn validate_password(password: &str) -> AppResult<()> {
    if password.chars().count() < 10 {
        return Err(AppError::invalid(
            "password",
            "too_short",
            "a password has at least 10 characters",
        ));
    }
    if password.len() > 1024 {
        return Err(AppError::invalid(
            "password",
            "too_long",
            "a password has at most 1024 bytes",
        ));
    }
    Ok(())
}

pub fn actor_of(user: &User) -> Actor {
    Actor {
        user_id: user.id,
        username: user.username.clone(),
        role: Role::parse(&user.role).unwrap_or(Role::Agent),
        permissions: user
            .permissions
            .iter()
            .filter_map(|p| Permission::parse(p).ok())
            .collect(),
    }
}

/// A started session: the cookie value (shown once) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub user: User,
}

/// The caller of a request with a session cookie, with the session's CSRF token.
pub struct SessionActor {
    pub actor: Actor,
    pub user: User,
    pub csrf_token: String,
}

impl App {
    /// Checks a password; throttles a name after repeated failures.
    pub async fn log_in(&self, username: &str, password: &str) -> AppResult<NewSession> {
        let now = now_ms();
        let s = &self.settings;
        let (failures, last) =
            users::login_failures(&self.db.pool, username, now - s.login_window_secs * 1000)
                .await?;
        if failures >= s.login_max_failures {
            let retry = (last.unwrap_or(now) + s.login_window_secs * 1000 - now) / 1000 + 1;
            return Err(AppError::TooManyRequests {
                retry_after_secs: retry.max(1),
            });
        }
        let user = users::by_username(&self.db.pool, username).await?;
        let ok = match &user {
            Some(u) if u.active => u
                .password_hash
                .as_deref()
                .is_some_and(|h| verify_password(password, h)),
            _ => {
                // Same work whether the name exists or not.
                let _ = hash_password(password);
                false
            }
        };
        let user = match (ok, user) {
            (true, Some(u)) => u,
            _ => {
                users::note_login_failure(&self.db.pool, username, now).await?;
                return Err(AppError::BadCredentials);
            }
        };
        users::clear_login_failures(&self.db.pool, username).await?;
        users::purge_expired_sessions(&self.db.pool, now).await?;
        let token = random_secret();
        let csrf_token = random_secret();
        let expires_at = now + s.session_ttl_secs * 1000;
        users::create_session(
            &self.db.pool,
            &token_hash(&token),
            user.id,
            &csrf_token,
            now,
            expires_at,
        )
        .await?;
        let mut tx = self.db.begin_write().await?;
        crate::audit::record(
            &mut tx,
            &actor_of(&user),
            "log_in",
            "user",
            Some(&user.username),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at,
            user,
        })
    }

    pub async fn log_out(&self, session_token: &str) -> AppResult<()> {
        users::delete_session(&self.db.pool, &token_hash(session_token)).await?;
        Ok(())
    }

    pub async fn session(&self, session_token: &str) -> AppResult<SessionActor> {
        let (user, csrf_token) =
            users::session_user(&self.db.pool, &token_hash(session_token), now_ms())
                .await?
                .ok_or(AppError::Unauthorized)?;
        Ok(SessionActor {
            actor: actor_of(&user),
            user,
            csrf_token,
        })
    }

    /// The actor behind an API token. Costs one indexed lookup; the last-use time is
    /// written at most once a minute.
    pub async fn token_actor(&self, token: &str) -> AppResult<Actor> {
        let (user, t) = self
            .db
            .token_user(&token_hash(token))
            .await?
            .ok_or(AppError::Unauthorized)?;
        let now = now_ms();
        if t.last_used_at.is_none_or(|at| now - at > 60_000) {
            users::touch_token(&self.db.pool, t.id, now).await?;
        }
        Ok(actor_of(&user))
    }

    /// Creates the administrator `admin` when the database has no active administrator.
    /// Returns the password when one was generated (to print once).
    pub async fn ensure_admin(&self, password: Option<&str>) -> AppResult<Option<String>> {
        if users::count_active_admins(&self.db.pool).await? > 0 {
            return Ok(None);
        }
        let generated = password.is_none();
        let password = password
            .map(str::to_string)
            .unwrap_or_else(generate_password);
        let now = now_ms();
        let existing = users::by_username(&self.db.pool, "admin").await?;
        let hash = hash_password(&password)?;
        match existing {
            Some(mut u) => {
                u.role = Role::Administrator.as_str().into();
                u.active = true;
                u.password_hash = Some(hash);
                users::update(&self.db.pool, &u, now).await?;
            }
            None => {
                users::insert(
                    &self.db.pool,
                    &User {
                        id: 0,
                        username: "admin".into(),
                        display_name: "Administrator".into(),
                        email: None,
                        password_hash: Some(hash),
                        role: Role::Administrator.as_str().into(),
                        permissions: Vec::new(),
                        active: true,
                        locale: "en".into(),
                        time_zone: self.settings.zone.name().into(),
                        created_at: now,
                    },
                )
                .await?;
            }
        }
        Ok(generated.then_some(password))
    }
}

/// The command line acting as the system (audited as `system`).
pub fn system_actor() -> Actor {
    Actor {
        user_id: 0,
        username: "system".into(),
        role: Role::Administrator,
        permissions: Permission::ALL.into_iter().collect(),
    }
}
