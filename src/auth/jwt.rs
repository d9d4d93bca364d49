//! Access tokens: HS256 tokens this server issues, and optionally tokens of an
//! external identity provider (RS256, ES256 or EdDSA).
//!
//! Every validation pins its algorithm from configuration (the token header's
//! `alg` is only compared against it), requires `exp`, `iss` and `aud`, checks
//! `nbf` and allows at most 30 s of clock skew.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

use crate::config::{AuthArgs, ExternalAlgorithm, ExternalUserClaim};
use crate::error::AppError;

/// The most clock skew ever tolerated.
pub const MAX_LEEWAY_SECS: u64 = 30;
/// The shortest accepted HS256 secret.
pub const MIN_SECRET_BYTES: usize = 32;

/// Claims of the tokens this server issues.
#[derive(Debug, Serialize, Deserialize)]
pub struct LocalClaims {
    /// `user:<id>`.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    /// The user's password version when the token was issued.
    pub pwv: i64,
    /// The user's token epoch when the token was issued (bumped by each
    /// deactivation). Tokens from before the claim existed carry none: epoch 0.
    #[serde(default)]
    pub tep: i64,
    /// Unique token id.
    pub jti: String,
}

#[derive(Debug, Deserialize)]
struct ExternalClaims {
    sub: Option<String>,
    email: Option<String>,
}

/// Who a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSubject {
    /// A token of ours: the user, and the password version and token epoch it was issued under.
    Local {
        user_id: i64,
        password_version: i64,
        token_epoch: i64,
        /// The token's `jti`: what a sign-out revokes (see `revoked_tokens`).
        token_id: String,
        /// When it expires (`exp`).
        expires_at: DateTime<Utc>,
    },
    /// An external token, mapped by e-mail.
    ExternalEmail(String),
    /// An external token, mapped by subject.
    ExternalSubject(String),
}

enum ExternalKeys {
    Single(DecodingKey),
    /// By `kid`.
    Set(HashMap<String, DecodingKey>),
}

struct External {
    keys: ExternalKeys,
    validation: Validation,
    user_claim: ExternalUserClaim,
}

/// Issues and verifies tokens.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    external: Option<External>,
}

/// Why a token was refused; shown to the client (none of it is secret).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was not issued for this service (audience)")]
    Audience,
    #[error("the token was not issued by an accepted issuer")]
    Issuer,
    #[error("the token is missing the required claim `{0}`")]
    MissingClaim(String),
    #[error("the token's signature or algorithm is not accepted")]
    Signature,
    #[error("the token is malformed")]
    Malformed,
}

impl From<TokenError> for AppError {
    fn from(e: TokenError) -> Self {
        AppError::Unauthenticated(format!("invalid token: {e}"))
    }
}

fn token_error(e: &jsonwebtoken::errors::Error) -> TokenError {
    match e.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::Audience,
        ErrorKind::InvalidIssuer => TokenError::Issuer,
        ErrorKind::MissingRequiredClaim(c) => TokenError::MissingClaim(c.clone()),
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName => TokenError::Signature,
        _ => TokenError::Malformed,
    }
}

fn strict_validation(alg: Algorithm, issuer: &str, audience: &str, leeway: u64) -> Validation {
    let mut v = Validation::new(alg);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.validate_exp = true;
    v.validate_nbf = true;
    v.validate_aud = true;
    v.leeway = leeway;
    v
}

/// A configuration problem found at start-up.
fn config_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::anyhow!(msg.into())
}

impl TokenService {
    /// Build from configuration and the HS256 secret. Refuses a short secret,
    /// too much leeway, and an incomplete external-provider configuration.
    pub fn new(args: &AuthArgs, secret: &[u8]) -> anyhow::Result<Self> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(config_error(format!(
                "the JWT secret must be at least {MIN_SECRET_BYTES} bytes (got {})",
                secret.len()
            )));
        }
        if args.jwt_leeway_secs > MAX_LEEWAY_SECS {
            return Err(config_error(format!(
                "KITREVIEW_JWT_LEEWAY_SECS must be at most {MAX_LEEWAY_SECS}"
            )));
        }
        let leeway = args.jwt_leeway_secs;
        let external = Self::external(args, leeway)?;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation: strict_validation(
                Algorithm::HS256,
                &args.jwt_issuer,
                &args.jwt_audience,
                leeway,
            ),
            issuer: args.jwt_issuer.clone(),
            audience: args.jwt_audience.clone(),
            external,
        })
    }

    fn external(args: &AuthArgs, leeway: u64) -> anyhow::Result<Option<External>> {
        let any = args.external_issuer.is_some()
            || args.external_audience.is_some()
            || args.external_algorithm.is_some()
            || args.external_public_key_file.is_some()
            || args.external_jwks_file.is_some();
        if !any {
            return Ok(None);
        }
        let (Some(issuer), Some(audience), Some(alg)) = (
            &args.external_issuer,
            &args.external_audience,
            args.external_algorithm,
        ) else {
            return Err(config_error(
                "an external identity provider needs KITREVIEW_EXTERNAL_ISSUER, \
                 KITREVIEW_EXTERNAL_AUDIENCE and KITREVIEW_EXTERNAL_ALGORITHM",
            ));
        };
        let algorithm = match alg {
            ExternalAlgorithm::Rs256 => Algorithm::RS256,
            ExternalAlgorithm::Es256 => Algorithm::ES256,
            ExternalAlgorithm::EdDsa => Algorithm::EdDSA,
        };
        let keys = match (&args.external_public_key_file, &args.external_jwks_file) {
            (Some(pem_path), None) => {
                let pem = std::fs::read(pem_path)
                    .map_err(|e| config_error(format!("cannot read {}: {e}", pem_path.display())))?;
                let key = match alg {
                    ExternalAlgorithm::Rs256 => DecodingKey::from_rsa_pem(&pem),
                    ExternalAlgorithm::Es256 => DecodingKey::from_ec_pem(&pem),
                    ExternalAlgorithm::EdDsa => DecodingKey::from_ed_pem(&pem),
                }
                .map_err(|e| config_error(format!("bad public key in {}: {e}", pem_path.display())))?;
                ExternalKeys::Single(key)
            }
            (None, Some(jwks_path)) => {
                let text = std::fs::read_to_string(jwks_path)
                    .map_err(|e| config_error(format!("cannot read {}: {e}", jwks_path.display())))?;
                let set: JwkSet = serde_json::from_str(&text)
                    .map_err(|e| config_error(format!("bad JWKS in {}: {e}", jwks_path.display())))?;
                let mut keys = HashMap::new();
                for jwk in &set.keys {
                    let Some(kid) = jwk.common.key_id.clone() else { continue };
                    if let Ok(key) = DecodingKey::from_jwk(jwk) {
                        keys.insert(kid, key);
                    }
                }
                if keys.is_empty() {
                    return Err(config_error(format!(
                        "the JWKS in {} has no usable key with a `kid`",
                        jwks_path.display()
                    )));
                }
                ExternalKeys::Set(keys)
            }
            _ => {
                return Err(config_error(
                    "give exactly one of KITREVIEW_EXTERNAL_PUBLIC_KEY_FILE and KITREVIEW_EXTERNAL_JWKS_FILE",
                ))
            }
        };
        Ok(Some(External {
            keys,
            validation: strict_validation(algorithm, issuer, audience, leeway),
            user_claim: args.external_user_claim,
        }))
    }

    /// Issue a token for `user_id`, valid for `ttl` from now. Token times follow
    /// the system clock, as their verification does (not the injected clock).
    pub fn issue(
        &self,
        user_id: i64,
        password_version: i64,
        token_epoch: i64,
        ttl: Duration,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(ttl).map_err(AppError::internal)?;
        let expires = now + ttl;
        let claims = LocalClaims {
            sub: format!("user:{user_id}"),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: expires.timestamp(),
            nbf: now.timestamp(),
            iat: now.timestamp(),
            pwv: password_version,
            tep: token_epoch,
            jti: uuid_like(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(anyhow::anyhow!("signing failed: {e}")))?;
        Ok((token, expires))
    }

    /// Check a token. `exp`/`nbf` are checked against the system clock.
    pub fn verify(&self, token: &str) -> Result<TokenSubject, TokenError> {
        let local = decode::<LocalClaims>(token, &self.decoding, &self.validation);
        let local_err = match local {
            Ok(data) => {
                let user_id = data
                    .claims
                    .sub
                    .strip_prefix("user:")
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or(TokenError::Malformed)?;
                let expires_at =
                    DateTime::from_timestamp(data.claims.exp, 0).ok_or(TokenError::Malformed)?;
                return Ok(TokenSubject::Local {
                    user_id,
                    password_version: data.claims.pwv,
                    token_epoch: data.claims.tep,
                    token_id: data.claims.jti,
                    expires_at,
                });
            }
            Err(e) => token_error(&e),
        };
        // Only a token that is not ours at all (another algorithm, or a signature
        // that our secret does not make) is tried against the external provider.
        let Some(ext) = &self.external else {
            return Err(local_err);
        };
        if local_err != TokenError::Signature {
            return Err(local_err);
        }
        let key = match &ext.keys {
            ExternalKeys::Single(k) => k,
            ExternalKeys::Set(keys) => {
                let header = decode_header(token).map_err(|e| token_error(&e))?;
                let kid = header.kid.ok_or(TokenError::Signature)?;
                keys.get(&kid).ok_or(TokenError::Signature)?
            }
        };
        let data =
            decode::<ExternalClaims>(token, key, &ext.validation).map_err(|e| token_error(&e))?;
        match ext.user_claim {
            ExternalUserClaim::Email => data
                .claims
                .email
                .map(TokenSubject::ExternalEmail)
                .ok_or_else(|| TokenError::MissingClaim("email".into())),
            ExternalUserClaim::Sub => data
                .claims
                .sub
                .map(TokenSubject::ExternalSubject)
                .ok_or_else(|| TokenError::MissingClaim("sub".into())),
        }
    }
}

/// When a token expires: its `exp` claim, read without checking the signature,
/// so only for a token that [`TokenService::verify`] has accepted.
pub fn expires_at(token: &str) -> Option<DateTime<Utc>> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

/// 128 random bits, hex.
fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}
