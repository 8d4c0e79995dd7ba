//! The layout: its version and the key prefix of every kind of record, in one place so that two
//! kinds can never share one.

/// The layout this code reads and writes. Layout 1 (the first development builds) kept ABHA
/// numbers as keys and sealed values without associated data; it is not read.
pub const SCHEMA_VERSION: u32 = 2;

/// Key prefixes, one per kind.
pub mod kind {
    /// Unsealed bookkeeping (`db-id`, `schema`, `digest`) and sealed counters.
    pub const META: u8 = b'M';
    /// Patients.
    pub const PATIENT: u8 = b'P';
    /// ABHA profiles, by keyed hash of the ABHA number.
    pub const ABHA: u8 = b'A';
    /// ABHA number or address (keyed hash) → patient id.
    pub const ABHA_INDEX: u8 = b'I';
    /// The health facility.
    pub const FACILITY: u8 = b'F';
    /// One day's token queue.
    pub const TOKENS: u8 = b'T';
    /// The audit log.
    pub const AUDIT: u8 = b'L';
    /// desk-core: requests waiting for ABDM's answer, by request id.
    pub const PENDING: u8 = b'R';
    /// desk-core: the outbox.
    pub const OUTBOX: u8 = b'O';
    /// desk-core: ids of outbox items due to be sent.
    pub const QUEUED: u8 = b'Q';
    /// desk-core: relay messages that could not be applied.
    pub const PARKED: u8 = b'K';
    /// desk-core settings (environment, generation, ids).
    pub const SETTINGS: u8 = b'S';
    /// M2: consultations (the clinic's own records).
    pub const CONSULTATION: u8 = b'C';
    /// M2: care contexts, by reference.
    pub const CARE_CONTEXT: u8 = b'X';
    /// M2: consent artefacts received as HIP.
    pub const HIP_ARTEFACT: u8 = b'H';
    /// M2: patient-initiated link requests (OTP hashed).
    pub const LINK_REQUEST: u8 = b'V';
    /// M2: outgoing transfers.
    pub const TRANSFER: u8 = b'U';
    /// M3: consent requests made as HIU.
    pub const CONSENT_REQUEST: u8 = b'N';
    /// M3: consent artefacts received as HIU.
    pub const HIU_ARTEFACT: u8 = b'W';
    /// M3: health-information requests with their key material.
    pub const HI_REQUEST: u8 = b'D';
    /// M3: received health records (under a per-consent key).
    pub const HEALTH_RECORD: u8 = b'E';
    /// M2: what a discovery offered, by transaction (link/init must follow one).
    pub const HIP_INDEX: u8 = b'B';
    /// M3: received records' sealed bundles (apart from their list entries).
    pub const RECORD_BODY: u8 = b'Y';
    /// M3: pages of a data push waiting for the rest (still Fidelius ciphertext).
    pub const PUSH_PAGE: u8 = b'G';
    /// M3: transaction id → data request.
    pub const HIU_INDEX: u8 = b'J';
    /// Staff accounts.
    pub const STAFF: u8 = b'Z';
}

/// Meta entries stored unsealed (read before the key is known, or the digest itself).
pub(crate) const UNSEALED_META: [&[u8]; 3] = [b"db-id", b"schema", b"digest"];
