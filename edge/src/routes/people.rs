//! People who sign in to the inbox as themselves: owners invite them
//! (`POST /api/v1/admin/invitations`), list and remove them (`…/people`); the invited accept
//! with a name and password (`POST /api/v1/auth/accept`) and sign in
//! (`POST /api/v1/auth/sign-in`), getting an `HttpOnly; Secure; SameSite=Strict` session
//! cookie and the session's CSRF token; `…/admin/session` says who is signed in (and `DELETE`
//! signs out), `DELETE …/admin/sessions` signs out everywhere, `…/admin/session/avatar` sets or
//! removes the person's photo ([`crate::media::avatar`]). A removed person's sessions end and
//! their open inbox sockets close at once.

use super::admin::Admin;
use crate::auth;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::media::{self, avatar};
use crate::random;
use crate::storage::{conversations, people};
use beckon_shared::media::MAX_AVATAR_BYTES;
use beckon_shared::proto::v1::{
    check_password, email_address, AcceptInvitation, ErrorCode, Invitation, NewInvitation, Person,
    SessionInfo, SignIn, SESSION_COOKIE,
};
use worker::{Request, Response};

/// How long a session lasts.
const SESSION_TTL_MS: i64 = 14 * 86_400_000;
/// How long an invitation link works.
const INVITATION_TTL_MS: i64 = 7 * 86_400_000;

fn email(raw: &str) -> Result<String> {
    email_address(raw)
        .ok_or_else(|| Error::bad_request("email must be an address like ana@example.com"))
}

/// `POST /api/v1/admin/invitations` (owners): an invitation link for a person to sign in with
/// a role on sites this key owns.
pub async fn invite(mut req: Request, edge: &Edge, admin: &Admin) -> Result<Response> {
    let new: NewInvitation = http::read_json(&mut req).await?;
    let address = email(&new.email)?;
    let scope =
        super::admin::grantable(edge, admin, new.sites, "a person may only be invited").await?;
    let db = edge.db()?;
    if people::exists(&db, &address).await? {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!("{address} already has an account"),
        ));
    }
    let token = auth::new_token("inv_", random::bytes());
    let expires_at = edge.now + INVITATION_TTL_MS;
    people::invite(
        &db,
        &auth::hash_admin_key(&token),
        (&address, new.role, &scope),
        &admin.key_id,
        (edge.now, expires_at),
    )
    .await?;
    http::json(
        201,
        &Invitation {
            email: address,
            role: new.role,
            sites: scope.to_list(),
            token,
            expires_at,
        },
    )
}

/// `GET /api/v1/admin/people` (owners): the people whose sites are all this key's.
pub async fn list(edge: &Edge, admin: &Admin) -> Result<Response> {
    let mut all = people::list(&edge.db()?).await?;
    all.retain(|p| admin.sites.covers(&p.scope()));
    http::json(200, &serde_json::json!({ "people": all }))
}

/// `DELETE /api/v1/admin/people/{person_id}` (owners): the person can no longer sign in, their
/// sessions end and their open inbox sockets are closed.
pub async fn remove(edge: &Edge, admin: &Admin, id: &str) -> Result<Response> {
    if admin.key_id == id {
        return Err(Error::new(
            ErrorCode::Conflict,
            "you cannot remove yourself (another owner can)",
        ));
    }
    let db = edge.db()?;
    let person = people::get(&db, id)
        .await?
        .filter(|p| admin.sites.covers(&p.scope()))
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no person {id}")))?;
    // Their conversations go back to nobody (the delete does it); open inboxes are told.
    let assigned = conversations::assigned_to(&db, id, 100).await?;
    forget_avatar(edge, id).await?;
    people::delete(&db, id).await?;
    super::admin::close_sockets(edge, &person.id, person.scope()).await?;
    // Best effort: the removal stands whatever the telling meets (a conversation deleted
    // meanwhile, a hub that does not answer).
    for (conversation, site) in assigned {
        if let Err(e) = super::work::tell_work(edge, &conversation, &site).await {
            worker::console_error!("telling inboxes about {conversation} failed: {e}");
        }
    }
    Ok(Response::empty()?.with_status(204))
}

/// Opens a session for `person`: the answer with who is signed in, its CSRF token and the
/// cookie.
async fn signed_in(edge: &Edge, person: Person, status: u16) -> Result<Response> {
    let token = auth::new_token("ses_", random::bytes());
    let expires_at = edge.now + SESSION_TTL_MS;
    people::open_session(
        &edge.db()?,
        &auth::hash_admin_key(&token),
        &person.id,
        (edge.now, expires_at),
    )
    .await?;
    let info = SessionInfo {
        csrf_token: auth::csrf_token(&edge.token_secret()?, &token),
        person,
        expires_at,
    };
    let mut resp = http::json(status, &info)?;
    resp.headers_mut()
        .set("set-cookie", &session_cookie(&token, SESSION_TTL_MS / 1000))?;
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

/// The `Set-Cookie` value of a session (an empty value with `max_age` 0 ends it).
fn session_cookie(token: &str, max_age_s: i64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_s}"
    )
}

/// Sign-ins come from our own page as JSON: a form on another site cannot sign a browser in
/// to someone else's account (login CSRF).
fn from_our_page(req: &Request, edge: &Edge) -> Result<()> {
    if http::origin(req)?.is_some_and(|o| o != edge.self_origin) {
        return Err(Error::code(ErrorCode::OriginNotAllowed));
    }
    let json = req.headers().get("content-type")?.is_some_and(|t| {
        t.trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if !json {
        return Err(Error::bad_request(
            "send JSON (content-type: application/json)",
        ));
    }
    Ok(())
}

/// `POST /api/v1/auth/accept`: the invited person sets their name and password, and is signed
/// in. An invitation works once, and only while whoever made it may still invite.
pub async fn accept(mut req: Request, edge: &Edge) -> Result<Response> {
    crate::rate_limit::check(&edge.env, &req, crate::rate_limit::Limit::SignIns).await?;
    from_our_page(&req, edge)?;
    let input: AcceptInvitation = http::read_json(&mut req).await?;
    check_password(&input.password).map_err(Error::bad_request)?;
    let name = beckon_shared::text::normalize_label(&input.name, 80)?
        .ok_or_else(|| Error::bad_request("name is required: one line of at most 80 characters"))?;
    let db = edge.db()?;
    let token = auth::hash_admin_key(input.token.trim());
    let invalid = || {
        Error::new(
            ErrorCode::InvalidToken,
            "this invitation is not valid or has expired (or was used): ask for a new one",
        )
    };
    let Some(invited) = people::invitation(&db, &token, edge.now).await? else {
        crate::rate_limit::check(&edge.env, &req, crate::rate_limit::Limit::AdminFailures).await?;
        return Err(invalid());
    };
    if !super::admin::credential_holds(edge, &invited.invited_by, 0).await? {
        return Err(invalid());
    }
    // The hash first: the invitation is spent only with the account it makes, in one step.
    let hash = auth::hash_password(&input.password, random::bytes()).map_err(Error::internal)?;
    let id = random::hex_id("pp_");
    if !people::accept(&db, &token, &id, (&name, &hash), edge.now).await? {
        return Err(match people::exists(&db, &invited.email).await? {
            true => Error::new(
                ErrorCode::Conflict,
                format!("{} already has an account: sign in", invited.email),
            ),
            false => invalid(),
        });
    }
    let person = people::get(&db, &id)
        .await?
        .ok_or_else(|| Error::internal("the new person is not there"))?;
    signed_in(edge, person, 201).await
}

/// `POST /api/v1/auth/sign-in`: email and password; a wrong pair is refused the same way
/// whether the email has an account or not, and counts as a failed sign-in.
pub async fn sign_in(mut req: Request, edge: &Edge) -> Result<Response> {
    use crate::rate_limit::{self, Limit};
    rate_limit::check(&edge.env, &req, Limit::SignIns).await?;
    from_our_page(&req, edge)?;
    let input: SignIn = http::read_json(&mut req).await?;
    let address = email_address(&input.email);
    // Per account before the password is checked: guesses from many addresses count too.
    if let Some(a) = &address {
        rate_limit::check_for(&edge.env, Limit::AccountSignIns, a).await?;
    }
    let found = match &address {
        Some(a) => people::by_email(&edge.db()?, a).await?,
        None => None,
    };
    let person = match found {
        Some((person, hash)) if auth::verify_password(&input.password, &hash) => Some(person),
        Some(_) => None,
        None => {
            // The same work as a check, so the answer's time says nothing about the email.
            let _ = auth::hash_password(&input.password, [0; 16]);
            None
        }
    };
    let Some(person) = person else {
        crate::rate_limit::check(&edge.env, &req, crate::rate_limit::Limit::AdminFailures).await?;
        return Err(Error::new(
            ErrorCode::Unauthorized,
            "wrong email or password",
        ));
    };
    signed_in(edge, person, 200).await
}

/// The session a request was signed in with (a key's call has none).
fn session_of(admin: &Admin) -> Result<&str> {
    admin.session.as_deref().ok_or_else(|| {
        Error::new(
            ErrorCode::Conflict,
            "this call is made with an admin key, not a signed-in session",
        )
    })
}

/// `GET /api/v1/admin/session`: who is signed in, and the CSRF token to repeat.
pub async fn current(edge: &Edge, admin: &Admin) -> Result<Response> {
    let token = session_of(admin)?;
    let db = edge.db()?;
    let Some((person, expires_at)) =
        people::session(&db, &auth::hash_admin_key(token), edge.now).await?
    else {
        return Err(Error::new(ErrorCode::Unauthorized, "signed out"));
    };
    let mut resp = http::json(
        200,
        &SessionInfo {
            csrf_token: auth::csrf_token(&edge.token_secret()?, token),
            person,
            expires_at,
        },
    )?;
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

/// `DELETE /api/v1/admin/session`: signs this browser out.
pub async fn sign_out(edge: &Edge, admin: &Admin) -> Result<Response> {
    let token = session_of(admin)?;
    people::close_session(&edge.db()?, &auth::hash_admin_key(token)).await?;
    signed_out()
}

/// `DELETE /api/v1/admin/sessions`: signs the person out everywhere (their open inbox sockets
/// close too).
pub async fn sign_out_everywhere(edge: &Edge, admin: &Admin) -> Result<Response> {
    session_of(admin)?;
    let db = edge.db()?;
    people::close_sessions(&db, &admin.key_id, edge.now).await?;
    if let Some(person) = people::get(&db, &admin.key_id).await? {
        super::admin::close_sockets(edge, &person.id, person.scope()).await?;
    }
    signed_out()
}

/// `PUT /api/v1/admin/session/avatar`: the signed-in person's photo (the image's bytes as the
/// body), beside the messages they write; the answer is the person.
pub async fn set_avatar(mut req: Request, edge: &Edge, admin: &Admin) -> Result<Response> {
    session_of(admin)?;
    let bytes = http::read_bytes(&mut req, MAX_AVATAR_BYTES as u64).await?;
    let photo = avatar::check(&bytes)?;
    edge.env
        .bucket(media::BUCKET)?
        .put(avatar::object_key(&admin.key_id), bytes)
        .http_metadata(worker::HttpMetadata {
            content_type: Some(media::serve::mime(photo.file_type).to_owned()),
            ..Default::default()
        })
        .execute()
        .await?;
    let db = edge.db()?;
    people::set_avatar(&db, &admin.key_id, Some(&photo.digest)).await?;
    let person = people::get(&db, &admin.key_id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, "this person no longer exists"))?;
    http::json(200, &person)
}

/// `DELETE /api/v1/admin/session/avatar`: back to the initial, beside earlier messages too.
pub async fn remove_avatar(edge: &Edge, admin: &Admin) -> Result<Response> {
    session_of(admin)?;
    forget_avatar(edge, &admin.key_id).await?;
    Ok(Response::empty()?.with_status(204))
}

/// Deletes a person's photo, if they have one.
async fn forget_avatar(edge: &Edge, person: &str) -> Result<()> {
    people::set_avatar(&edge.db()?, person, None).await?;
    edge.env
        .bucket(media::BUCKET)?
        .delete(avatar::object_key(person))
        .await?;
    Ok(())
}

fn signed_out() -> Result<Response> {
    let mut resp = Response::empty()?.with_status(204);
    resp.headers_mut()
        .set("set-cookie", &session_cookie("", 0))?;
    Ok(resp)
}
