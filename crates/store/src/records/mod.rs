//! The records the store keeps for every part of the desk (pure data; the flows are desk-core's).

mod abha;
mod audit;
mod consultation;
mod facility;
mod hip;
mod hiu;
mod patient;
mod staff;
mod tokens;

pub use abha::{AbhaProfile, LinkingToken};
pub use audit::AuditEntry;
pub use consultation::{
    Attachment, Consultation, Diagnosis, Doctor, Investigation, LabValue, LinkState,
    PrescriptionLine, Vitals,
};
pub use facility::HealthFacility;
pub use hip::{
    ArtefactStatus, Frequency, FrequencyUnit, HipArtefact, LinkRequest, Transfer, TransferState,
};
pub use hiu::{
    Archived, ConsentAsk, ConsentRequest, DataRequest, DataRequestState, HealthRecord, HiuArtefact,
    PushPage, RecordBody, RequestStatus,
};
pub use patient::{Gender, Patient};
pub use staff::{Role, StaffMember};
pub use tokens::TokenDay;
