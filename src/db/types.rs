//! The domain's values as database columns: each enum is stored as its
//! `as_str` text and decoded once, here, at the edge (a value the domain does
//! not know is a decoding error, never a silent default). The domain stays
//! free of sqlx: the impls live in this module.

use sqlx::error::BoxDynError;

use super::sql::Arg;
use crate::domain::accounts::{OrganizationKind, Region};
use crate::domain::audit::AuditAction;
use crate::domain::carry::CarryStatus;
use crate::domain::comments::{AnchorKind, CommentState, CommentType, ReplyState};
use crate::domain::cycle::Visibility;
use crate::domain::disposition::DispositionKind;
use crate::domain::document::BlockKind;
use crate::domain::ids::NodeKind;
use crate::domain::modules::ModuleStatus;
use crate::domain::notifications::{NotificationKind, NotificationReason};

/// Decode stored text into `T`, or say which value was not understood.
fn decode_text<T: std::str::FromStr>(s: &str) -> Result<T, BoxDynError> {
    s.parse::<T>().map_err(|_| {
        format!(
            "'{s}' is not a stored {}",
            std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("value")
        )
        .into()
    })
}

macro_rules! stored_as_text {
    ($($t:ty),+ $(,)?) => {$(
        stored_as_text!(@db $t, sqlx::Sqlite);
        stored_as_text!(@db $t, sqlx::Postgres);
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Text(v.as_str().to_owned())
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self {
                Arg::OptText(v.map(|v| v.as_str().to_owned()))
            }
        }
    )+};
    (@db $t:ty, $db:ty) => {
        impl sqlx::Type<$db> for $t {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <str as sqlx::Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as sqlx::Database>::TypeInfo) -> bool {
                <str as sqlx::Type<$db>>::compatible(ty)
            }
        }
        impl<'r> sqlx::Decode<'r, $db> for $t {
            fn decode(value: <$db as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                decode_text(<&str as sqlx::Decode<'r, $db>>::decode(value)?)
            }
        }
        impl<'q> sqlx::Encode<'q, $db> for $t {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, BoxDynError> {
                <&str as sqlx::Encode<'q, $db>>::encode(self.as_str(), buf)
            }
        }
    };
}

stored_as_text!(
    AnchorKind,
    AuditAction,
    BlockKind,
    CarryStatus,
    CommentState,
    CommentType,
    DispositionKind,
    ModuleStatus,
    NodeKind,
    NotificationKind,
    NotificationReason,
    OrganizationKind,
    Region,
    ReplyState,
    Visibility,
);
