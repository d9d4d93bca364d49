//! The rows and filters the read side hands out and takes, re-exported from
//! storage so that callers above the services (the GraphQL layer) name them
//! without reaching into `crate::db`: its functions and pools stay the
//! services' own.

pub use crate::db::accounts::{
    OrganizationFilter, OrganizationRow, QuestionRow, UserFilter, UserRow,
};
pub use crate::db::audit::{AuditFilter, AuditRow};
pub use crate::db::comments::{CommentFilter, CommentOrder, CommentRow, EditRow, ReplyRow};
pub use crate::db::consolidation::{CarriedFilter, CarriedRow, ChangeRow, DispositionRow};
pub use crate::db::cycles::CycleRow;
pub use crate::db::modules::{BlockRow, KitRow, ModuleRow, RevisionRow, SectionRow};
pub use crate::db::notifications::NotificationRow;
pub use crate::db::search::SearchFilter;
