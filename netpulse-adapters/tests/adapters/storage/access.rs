//! The access store: guarded role and disable changes (the last enabled admin stays), sessions
//! that carry the current role, token owners, scopes and last use, one-time flashes, the audit
//! log.

use netpulse_domain::access::{Permission, Role, last_admin_guard};
use netpulse_domain::id::{ApiTokenId, UserId};
use netpulse_ports::access_store::{AccessChange, AuditEntry};
use netpulse_ports::storage::{ApiToken, Storage, StorageError, User};
use netpulse_ports::web_store::NewSession;

use crate::storage::helpers::{at, digest, new_id};

async fn user(s: &dyn Storage, email: &str, role: Role) -> User {
    let u = User {
        id: UserId::parse(&new_id()).unwrap(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def".into(),
        created_at: at(0),
        role,
        disabled: false,
        display_name: None,
    };
    s.create_user(&u).await.unwrap();
    u
}

async fn session(s: &dyn Storage, u: &User, n: u8) {
    s.create_session(&NewSession {
        digest: digest(n),
        user_id: u.id.clone(),
        csrf_token: format!("csrf-{n}"),
        created_at: at(0),
        expires_at: at(3600),
    })
    .await
    .unwrap();
}

pub(crate) async fn the_last_enabled_admin_stays(s: &dyn Storage) {
    let admin = user(s, "admin@example.org", Role::Admin).await;
    let op = user(s, "op@example.org", Role::Operator).await;
    let guard = |a, b, n| last_admin_guard(a, b, n);
    for change in [
        AccessChange::Role(Role::Viewer),
        AccessChange::Disabled(true),
        AccessChange::Delete,
    ] {
        let e = s.change_user_access(&admin.id, change, guard).await;
        assert!(
            matches!(e, Err(StorageError::Conflict(_))),
            "{change:?}: {e:?}"
        );
    }
    // Another admin: now the first may go.
    let after = s
        .change_user_access(&op.id, AccessChange::Role(Role::Admin), guard)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.role, Role::Admin);
    session(s, &admin, 1).await;
    assert_eq!(
        s.session(&digest(1)).await.unwrap().unwrap().role,
        Role::Admin
    );
    let demoted = s
        .change_user_access(&admin.id, AccessChange::Role(Role::Viewer), guard)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(demoted.role, Role::Viewer);
    // The session reads the current role.
    assert_eq!(
        s.session(&digest(1)).await.unwrap().unwrap().role,
        Role::Viewer
    );
    // Now `op` is the last admin: disabling it is refused, disabling the viewer is not and
    // ends its sessions.
    assert!(matches!(
        s.change_user_access(&op.id, AccessChange::Disabled(true), guard)
            .await,
        Err(StorageError::Conflict(_))
    ));
    let off = s
        .change_user_access(&admin.id, AccessChange::Disabled(true), guard)
        .await
        .unwrap()
        .unwrap();
    assert!(off.disabled);
    assert_eq!(s.session(&digest(1)).await.unwrap(), None);
    // A disabled admin does not count: re-enable it as admin, then delete it.
    s.change_user_access(&admin.id, AccessChange::Disabled(false), guard)
        .await
        .unwrap();
    assert_eq!(
        s.change_user_access(&admin.id, AccessChange::Delete, guard)
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.user(&admin.id).await.unwrap(), None);
    assert_eq!(
        s.users()
            .await
            .unwrap()
            .iter()
            .map(|u| u.email.as_str())
            .collect::<Vec<_>>(),
        vec!["op@example.org"]
    );
    assert!(matches!(
        s.change_user_access(&admin.id, AccessChange::Delete, guard)
            .await,
        Err(StorageError::NotFound { .. })
    ));
}

pub(crate) async fn concurrent_demotions_keep_one_admin(s: &dyn Storage) {
    let a = user(s, "a@example.org", Role::Admin).await;
    let b = user(s, "b@example.org", Role::Admin).await;
    let guard = |x, y, n| last_admin_guard(x, y, n);
    let (ra, rb) = tokio::join!(
        s.change_user_access(&a.id, AccessChange::Role(Role::Viewer), guard),
        s.change_user_access(&b.id, AccessChange::Role(Role::Viewer), guard),
    );
    assert_eq!(
        usize::from(ra.is_ok()) + usize::from(rb.is_ok()),
        1,
        "{ra:?} {rb:?}"
    );
    let admins = s
        .users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.role == Role::Admin)
        .count();
    assert_eq!(admins, 1);
}

pub(crate) async fn tokens_have_owners_scopes_and_last_use(s: &dyn Storage) {
    let u = user(s, "owner@example.org", Role::Operator).await;
    let t = ApiToken {
        id: ApiTokenId::parse(&new_id()).unwrap(),
        name: "ci".into(),
        created_at: at(0),
        last_used_at: None,
        user_id: Some(u.id.clone()),
        scopes: vec![Permission::ResultsRead, Permission::TestsRun],
        expires_at: Some(at(100)),
        last_used_ip: None,
    };
    s.create_api_token(&t, &digest(5)).await.unwrap();
    s.set_api_token_last_used(&t.id, at(10), Some("127.0.0.7"))
        .await
        .unwrap();
    let back = s.api_token_by_digest(&digest(5)).await.unwrap().unwrap();
    assert_eq!(back.scopes, t.scopes);
    assert_eq!(back.user_id, Some(u.id.clone()));
    assert_eq!(back.expires_at, Some(at(100)));
    assert_eq!(back.last_used_at, Some(at(10)));
    assert_eq!(back.last_used_ip.as_deref(), Some("127.0.0.7"));
    assert_eq!(s.api_tokens_of(&u.id).await.unwrap(), vec![back]);
    // Deleting the owner deletes the token.
    user(s, "admin@example.org", Role::Admin).await;
    s.change_user_access(&u.id, AccessChange::Delete, |a, b, n| {
        last_admin_guard(a, b, n)
    })
    .await
    .unwrap();
    assert_eq!(s.api_token_by_digest(&digest(5)).await.unwrap(), None);
}

pub(crate) async fn flashes_are_read_once(s: &dyn Storage) {
    let u = user(s, "f@example.org", Role::Viewer).await;
    session(s, &u, 2).await;
    session(s, &u, 3).await;
    s.put_flash(&digest(2), &new_id(), "api-token", "one", at(1))
        .await
        .unwrap();
    s.put_flash(&digest(2), &new_id(), "api-token", "two", at(2))
        .await
        .unwrap();
    // Another session sees nothing.
    assert!(s.take_flashes(&digest(3)).await.unwrap().is_empty());
    let got = s.take_flashes(&digest(2)).await.unwrap();
    assert_eq!(
        got.iter().map(|f| f.payload.as_str()).collect::<Vec<_>>(),
        vec!["one", "two"]
    );
    assert!(s.take_flashes(&digest(2)).await.unwrap().is_empty());
    // A flash goes with its session.
    s.put_flash(&digest(3), &new_id(), "api-token", "three", at(3))
        .await
        .unwrap();
    s.delete_session(&digest(3)).await.unwrap();
    assert!(s.take_flashes(&digest(3)).await.unwrap().is_empty());
}

pub(crate) async fn audit_entries_page_newest_first_and_prune(s: &dyn Storage) {
    for i in 0..5_i64 {
        s.append_audit(&AuditEntry {
            id: format!("{i:032}"),
            at: at(i / 2),
            actor_id: None,
            actor_email: Some("admin@example.org".into()),
            action: "user.role".into(),
            subject: format!("user:{i}"),
            detail: "viewer → operator".into(),
        })
        .await
        .unwrap();
    }
    let first = s.audit_entries(None, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(),
        vec!["user:4", "user:3"]
    );
    let last = first.last().unwrap();
    let rest = s
        .audit_entries(Some((last.at, last.id.clone())), 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(),
        vec!["user:2", "user:1", "user:0"]
    );
    assert_eq!(s.prune_audit(at(1)).await.unwrap(), 2);
    assert_eq!(s.audit_entries(None, 10).await.unwrap().len(), 3);
}

pub(crate) async fn two_factor_state_steps_codes_and_challenges(s: &dyn Storage) {
    use netpulse_ports::two_factor_store::{LoginChallenge, RecoveryCode};
    let u = user(s, "mfa@example.org", Role::Viewer).await;
    let rec = s.totp(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (rec.secret_enc, rec.pending_enc, rec.last_step),
        (None, None, None)
    );
    let missing = UserId::parse(&new_id()).unwrap();
    assert!(s.totp(&missing).await.unwrap().is_none());

    // Pending, then confirmed only with the pending value it was shown.
    s.set_totp_pending(&u.id, "v1:first").await.unwrap();
    s.set_totp_pending(&u.id, "v1:second").await.unwrap();
    let code = |n: u8| RecoveryCode {
        id: format!("code-{n}"),
        digest: format!("$argon2id$digest-{n}"),
        used_at: None,
    };
    assert!(
        !s.confirm_totp(&u.id, "v1:first", 10, &[code(1)], at(5))
            .await
            .unwrap()
    );
    assert!(
        s.confirm_totp(&u.id, "v1:second", 10, &[code(1), code(2)], at(5))
            .await
            .unwrap()
    );
    let rec = s.totp(&u.id).await.unwrap().unwrap();
    assert_eq!(rec.secret_enc.as_deref(), Some("v1:second"));
    assert_eq!((rec.pending_enc, rec.last_step), (None, Some(10)));

    // The step only moves forward, once.
    assert!(!s.advance_totp_step(&u.id, 10).await.unwrap());
    assert!(!s.advance_totp_step(&u.id, 9).await.unwrap());
    assert!(s.advance_totp_step(&u.id, 11).await.unwrap());
    assert!(!s.advance_totp_step(&u.id, 11).await.unwrap());

    // Recovery codes: consumed once; replaced all together.
    assert_eq!(s.recovery_codes(&u.id).await.unwrap().len(), 2);
    assert!(s.consume_recovery_code("code-1", at(7)).await.unwrap());
    assert!(!s.consume_recovery_code("code-1", at(8)).await.unwrap());
    let codes = s.recovery_codes(&u.id).await.unwrap();
    assert_eq!(codes[0].used_at, Some(at(7)));
    assert_eq!(codes[1].used_at, None);
    s.replace_recovery_codes(&u.id, &[code(3)], at(9))
        .await
        .unwrap();
    let codes = s.recovery_codes(&u.id).await.unwrap();
    assert_eq!(
        codes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["code-3"]
    );

    // Pending sign-ins: stored, read, deleted once; expired ones are swept by the next.
    let challenge = LoginChallenge {
        user_id: u.id.clone(),
        next_path: "/history".into(),
        expires_at: at(300),
    };
    s.create_login_challenge(&digest(40), &challenge, at(0))
        .await
        .unwrap();
    assert_eq!(
        s.login_challenge(&digest(40)).await.unwrap(),
        Some(challenge.clone())
    );
    s.create_login_challenge(&digest(41), &challenge, at(301))
        .await
        .unwrap();
    assert_eq!(s.login_challenge(&digest(40)).await.unwrap(), None, "swept");
    assert!(s.delete_login_challenge(&digest(41)).await.unwrap());
    assert!(!s.delete_login_challenge(&digest(41)).await.unwrap());

    // Turning it off clears everything.
    s.clear_totp(&u.id).await.unwrap();
    let rec = s.totp(&u.id).await.unwrap().unwrap();
    assert_eq!((rec.secret_enc, rec.last_step), (None, None));
    assert!(s.recovery_codes(&u.id).await.unwrap().is_empty());
    assert!(matches!(
        s.clear_totp(&missing).await,
        Err(StorageError::NotFound { .. })
    ));
}
