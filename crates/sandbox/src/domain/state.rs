//! What the simulated ABDM knows: Aadhaar residents, ABHA accounts, OTP journeys, registered bridges
//! and services, the patient's phone, consents and data-flow sessions. In memory: the sandbox is a
//! test peer and a demo, and starts from the same demo data every time.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use abdm::ids::{verhoeff_check_digit, Aadhaar};
use abdm::v0_5::{ConsentDetail, ConsentStatus, ServiceKind};
use abdm::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A person in the simulated Aadhaar registry.
#[derive(Debug, Clone, Serialize)]
pub struct Resident {
    pub aadhaar: String,
    pub name: String,
    pub gender: String,
    pub year_of_birth: u32,
    pub month_of_birth: u32,
    pub day_of_birth: u32,
    pub mobile: String,
    pub district: String,
    pub state: String,
    pub pincode: String,
}

/// An ABHA account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub number: String,
    pub address: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub gender: String,
    pub year_of_birth: u32,
    pub month_of_birth: u32,
    pub day_of_birth: u32,
    pub mobile: String,
    pub email: Option<String>,
    pub aadhaar: Option<String>,
    pub district: String,
    pub state: String,
    pub pincode: String,
    /// Care contexts linked at each HIP: hip id → (patient reference, care-context references).
    pub links: BTreeMap<String, (String, Vec<String>)>,
}

impl Account {
    /// The gender as ABDM's v0.5 messages type it.
    pub fn wire_gender(&self) -> abdm::v0_5::Gender {
        match self.gender.as_str() {
            "M" => abdm::v0_5::Gender::M,
            "F" => abdm::v0_5::Gender::F,
            "O" => abdm::v0_5::Gender::O,
            _ => abdm::v0_5::Gender::U,
        }
    }
}

/// An OTP waiting to be entered.
#[derive(Debug, Clone)]
pub struct Otp {
    pub code: String,
    pub expires: Instant,
    pub attempts_left: u32,
}

pub enum OtpCheck {
    Ok,
    Wrong { attempts_left: u32 },
    Expired,
    TooManyAttempts,
}

impl Otp {
    pub fn check(&mut self, entered: &str) -> OtpCheck {
        if self.attempts_left == 0 {
            return OtpCheck::TooManyAttempts;
        }
        if Instant::now() > self.expires {
            return OtpCheck::Expired;
        }
        if entered.trim() == self.code {
            self.attempts_left = 0;
            return OtpCheck::Ok;
        }
        self.attempts_left -= 1;
        if self.attempts_left == 0 {
            OtpCheck::TooManyAttempts
        } else {
            OtpCheck::Wrong {
                attempts_left: self.attempts_left,
            }
        }
    }
}

/// One ABHA-service journey (registration or login), threaded by `txnId`.
#[derive(Debug, Clone)]
pub struct Journey {
    pub kind: JourneyKind,
    pub aadhaar: Option<String>,
    /// For login: the account's ABHA number.
    pub account: Option<String>,
    pub otp: Option<Otp>,
    pub otp_sends: u32,
    pub aadhaar_verified: bool,
    pub mobile: Option<String>,
    pub mobile_verified: bool,
    pub created: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JourneyKind {
    Registration,
    LoginAadhaarOtp,
    LoginMobileOtp,
}

/// A gateway `users/auth` transaction (HIP-initiated linking).
#[derive(Debug, Clone)]
pub struct AuthTransaction {
    pub account: String,
    pub purpose: abdm::v0_5::AuthPurpose,
    pub mode: abdm::v0_5::AuthMode,
    pub requester: abdm::v0_5::Requester,
    pub otp: Option<Otp>,
    pub done: bool,
}

/// A message on the simulated patient's phone.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneMessage {
    pub to: String,
    pub text: String,
    /// The code in the message, for test harnesses (a person reads `text`).
    pub otp: Option<String>,
    #[serde(rename = "txnId")]
    pub txn_id: Option<String>,
    pub at: Timestamp,
}

/// A client of the gateway (an integrator's bridge).
#[derive(Debug, Clone)]
pub struct Client {
    pub secret: String,
    pub bridge_url: Option<String>,
    /// The generation its bridge is sent (set by the generation of its calls).
    pub speaks: abdm::Generation,
    /// Bumped when the secret changes: tokens of an older generation are revoked.
    pub generation: u64,
}

/// A registered HIP/HIU service (`<HFR id>_<n>`), owned by a client.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub types: Vec<ServiceKind>,
    pub active: bool,
    #[serde(skip)]
    pub client_id: String,
}

/// A consent request from a HIU and the artefacts it produced.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRequestRecord {
    pub id: Uuid,
    pub hiu_id: String,
    pub patient: String,
    pub status: ConsentStatus,
    pub artefacts: Vec<Uuid>,
    #[serde(skip)]
    pub body: Option<abdm::v0_5::consent_requests::init::Consent>,
}

/// A consent artefact as the consent manager keeps it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Artefact {
    pub id: Uuid,
    pub request_id: Option<Uuid>,
    pub status: ConsentStatus,
    pub detail: ConsentDetail,
    pub hiu_id: String,
    /// Data requests made under it (for the frequency rule).
    #[serde(skip)]
    pub uses: Vec<Instant>,
}

/// What the peer HIU received from a HIP (our clinic), decrypted and checked.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerHiuReport {
    pub transaction_id: Uuid,
    pub consent_id: Uuid,
    /// The data request's id (the HIP's on-request answers it).
    pub request_id: Uuid,
    /// Page numbers received, each once.
    pub pages_received: Vec<u32>,
    /// Pages that came again (a HIP resuming after a crash); their entries are not counted twice.
    pub repeated_pages: Vec<u32>,
    pub page_count: Option<u32>,
    pub entries: Vec<ReceivedEntry>,
    pub errors: Vec<String>,
    /// The HIP's on-request: `ACKNOWLEDGED`, or its error message.
    pub hip_answered: Option<String>,
    /// The session status in the HIP's health-information/notify.
    pub hip_notified: Option<String>,
    /// Per care context, the status the HIP notified (`DELIVERED`, `ERRORED`) and its words.
    pub hip_statuses: Vec<(String, String, String)>,
    /// Key and nonce pairs seen on pages (base64 key ‖ nonce): one per page when keys are fresh.
    #[serde(skip)]
    pub sender_keys: std::collections::HashSet<String>,
    /// Decrypted bundles by page (the operator's validator reads them).
    #[serde(skip)]
    pub bundles: std::collections::BTreeMap<u32, Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedEntry {
    pub care_context_reference: String,
    pub resource_type: Option<String>,
    pub composition_type: Option<String>,
    pub checksum_ok: bool,
    pub bytes: usize,
}

/// A profile share pushed to a HIP, and what it answered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareRecord {
    pub request_id: Uuid,
    pub hip_id: String,
    pub abha_address: String,
    pub status: Option<String>,
    pub token_number: Option<String>,
    pub error: Option<String>,
}

#[derive(Default)]
pub struct State {
    pub clients: HashMap<String, Client>,
    /// v3 link-token requests accepted, by (ABHA address, HIP): the repeat guard.
    pub link_token_asks: HashMap<(String, String), Instant>,
    /// v3 linking requests refused, by ABHA address: too many and the address is blocked.
    pub link_refusals: HashMap<String, Vec<Instant>>,
    /// ABHA addresses blocked from linking (`ABDM-1027`), until when.
    pub link_blocked: HashMap<String, Instant>,
    pub services: HashMap<String, Service>,
    pub residents: HashMap<String, Resident>,
    /// By ABHA number (dashed).
    pub accounts: BTreeMap<String, Account>,
    pub journeys: HashMap<String, Journey>,
    pub x_tokens: HashMap<String, (String, Instant)>,
    /// ABHA v3 T-tokens of mobile logins: token → (mobile, until when).
    pub t_tokens: HashMap<String, (String, Instant)>,
    pub auth_transactions: HashMap<String, AuthTransaction>,
    pub phone: Vec<PhoneMessage>,
    pub consent_requests: HashMap<Uuid, ConsentRequestRecord>,
    pub artefacts: HashMap<Uuid, Artefact>,
    /// Data-flow sessions: transaction id → (artefact id, HIU service, key material of the request).
    pub hi_sessions: HashMap<Uuid, (Uuid, String)>,
    pub peer_hiu_keys: HashMap<Uuid, fidelius::KeyMaterial>,
    pub peer_hiu_reports: HashMap<Uuid, PeerHiuReport>,
    pub shares: HashMap<Uuid, ShareRecord>,
    /// What HIUs told the consent manager about transfers to them (`health-information/notify`).
    pub hiu_notifications: Vec<serde_json::Value>,
    /// Answers the sandbox's own requests to bridges received (discover, link, …), by request id.
    pub bridge_answers: HashMap<Uuid, serde_json::Value>,
}

impl State {
    pub fn account_by_id(&self, id: &str) -> Option<&Account> {
        let id = id.trim().to_ascii_lowercase();
        if let Ok(number) = abdm::ids::AbhaNumber::parse(&id) {
            return self.accounts.get(number.dashed());
        }
        self.accounts.values().find(|a| a.address == id)
    }

    pub fn account_by_id_mut(&mut self, id: &str) -> Option<&mut Account> {
        let number = self.account_by_id(id)?.number.clone();
        self.accounts.get_mut(&number)
    }

    pub fn account_by_aadhaar(&self, aadhaar: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.aadhaar.as_deref() == Some(aadhaar))
    }

    /// The resident for an Aadhaar number: a demo person, or one derived from the digits so that any
    /// valid number works and always gives the same person.
    pub fn resident(&mut self, aadhaar: &Aadhaar) -> Resident {
        let digits = aadhaar.digits().to_string();
        self.residents
            .entry(digits.clone())
            .or_insert_with(|| generated_resident(&digits))
            .clone()
    }

    pub fn send_sms(
        &mut self,
        to: &str,
        text: String,
        otp: Option<String>,
        txn_id: Option<String>,
    ) {
        tracing::info!(to = %abdm::ids::Mobile::parse(to).map(|m| m.masked()).unwrap_or_default(), "patient phone: {}", text);
        self.phone.push(PhoneMessage {
            to: to.to_string(),
            text,
            otp,
            txn_id,
            at: Timestamp::now(),
        });
    }

    /// A fresh 14-digit ABHA number (`91-…`), not yet taken.
    pub fn new_abha_number(&self, seed: &str) -> String {
        let mut n = fnv(seed.as_bytes());
        loop {
            let digits = format!("91{:012}", n % 1_000_000_000_000);
            let dashed = format!(
                "{}-{}-{}-{}",
                &digits[..2],
                &digits[2..6],
                &digits[6..10],
                &digits[10..]
            );
            if !self.accounts.contains_key(&dashed) {
                return dashed;
            }
            n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
    }

    pub fn seed_demo(&mut self) {
        for r in demo_residents() {
            self.residents.insert(r.aadhaar.clone(), r);
        }
        // One resident already has an ABHA, for the "link an existing ABHA" flows.
        let asha = self.residents["999941057058"].clone();
        let account = account_for(&asha, "91-1234-5678-9012".into(), "asha.kumari@sbx".into());
        self.accounts.insert(account.number.clone(), account);
        let ravi = self.residents["491817453065"].clone();
        let account = account_for(&ravi, "91-5555-0000-1234".into(), "ravi.shankar@sbx".into());
        self.accounts.insert(account.number.clone(), account);
        // And one for patient-initiated linking: she finds her records from her PHR app.
        let fatima = self.residents["736204185598"].clone();
        let account = account_for(
            &fatima,
            "91-7777-0000-5678".into(),
            "fatima.begum@sbx".into(),
        );
        self.accounts.insert(account.number.clone(), account);
    }
}

pub fn account_for(r: &Resident, number: String, address: String) -> Account {
    let (first, last) = r.name.split_once(' ').unwrap_or((&r.name, ""));
    Account {
        number,
        address,
        name: r.name.clone(),
        first_name: first.into(),
        last_name: last.into(),
        gender: r.gender.clone(),
        year_of_birth: r.year_of_birth,
        month_of_birth: r.month_of_birth,
        day_of_birth: r.day_of_birth,
        mobile: r.mobile.clone(),
        email: None,
        aadhaar: Some(r.aadhaar.clone()),
        district: r.district.clone(),
        state: r.state.clone(),
        pincode: r.pincode.clone(),
        links: BTreeMap::new(),
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

/// Makes a valid Aadhaar number from 11 leading digits.
pub fn aadhaar_with_check(prefix11: &str) -> String {
    let digits: Vec<u8> = prefix11.bytes().map(|b| b - b'0').collect();
    format!("{prefix11}{}", verhoeff_check_digit(&digits))
}

fn demo_residents() -> Vec<Resident> {
    let person = |aadhaar: &str,
                  name: &str,
                  gender: &str,
                  ymd: (u32, u32, u32),
                  mobile: &str,
                  district: &str,
                  state: &str,
                  pin: &str| Resident {
        aadhaar: aadhaar.into(),
        name: name.into(),
        gender: gender.into(),
        year_of_birth: ymd.0,
        month_of_birth: ymd.1,
        day_of_birth: ymd.2,
        mobile: mobile.into(),
        district: district.into(),
        state: state.into(),
        pincode: pin.into(),
    };
    vec![
        person(
            "999941057058",
            "Asha Kumari",
            "F",
            (1990, 4, 12),
            "9876543210",
            "Pune",
            "Maharashtra",
            "411001",
        ),
        person(
            "491817453065",
            "Ravi Shankar",
            "M",
            (1978, 11, 3),
            "9812345678",
            "Bengaluru Urban",
            "Karnataka",
            "560001",
        ),
        person(
            "736204185598",
            "Fatima Begum",
            "F",
            (1965, 1, 26),
            "9900112233",
            "Hyderabad",
            "Telangana",
            "500001",
        ),
    ]
}

fn generated_resident(aadhaar: &str) -> Resident {
    const FIRST_F: &[&str] = &[
        "Priya", "Lakshmi", "Sunita", "Kavya", "Anjali", "Meena", "Deepa", "Nisha",
    ];
    const FIRST_M: &[&str] = &[
        "Arjun", "Vikram", "Suresh", "Rahul", "Imran", "Karthik", "Manoj", "Ajay",
    ];
    const LAST: &[&str] = &[
        "Sharma", "Reddy", "Nair", "Patel", "Singh", "Iyer", "Das", "Khan",
    ];
    const PLACES: &[(&str, &str, &str)] = &[
        ("Lucknow", "Uttar Pradesh", "226001"),
        ("Jaipur", "Rajasthan", "302001"),
        ("Chennai", "Tamil Nadu", "600001"),
        ("Kolkata", "West Bengal", "700001"),
        ("Patna", "Bihar", "800001"),
    ];
    let h = fnv(aadhaar.as_bytes());
    let female = h % 2 == 0;
    let first = if female { FIRST_F } else { FIRST_M }[(h >> 8) as usize % 8];
    let last = LAST[(h >> 16) as usize % LAST.len()];
    let place = PLACES[(h >> 24) as usize % PLACES.len()];
    Resident {
        aadhaar: aadhaar.into(),
        name: format!("{first} {last}"),
        gender: if female { "F" } else { "M" }.into(),
        year_of_birth: 1950 + (h >> 32) as u32 % 55,
        month_of_birth: 1 + (h >> 40) as u32 % 12,
        day_of_birth: 1 + (h >> 44) as u32 % 28,
        mobile: format!("9{:09}", (h >> 4) % 1_000_000_000),
        district: place.0.into(),
        state: place.1.into(),
        pincode: place.2.into(),
    }
}

/// The sandbox's consent-manager behaviour for new consent requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentPolicy {
    /// The patient grants every request.
    Grant,
    /// The patient denies every request.
    Deny,
    /// Nothing happens until `POST /admin/consent-requests/{id}/grant|deny`.
    Manual,
}

/// Fault injection, settable at start and at run time (`PUT /admin/faults`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Faults {
    /// Drop the next N callbacks.
    pub drop_next: u32,
    /// Send the next N callbacks twice.
    pub duplicate_next: u32,
    /// Random extra delay up to this many ms per callback, so callbacks overtake each other.
    pub reorder_jitter_ms: u64,
    /// Answer the next N gateway/ABHA calls with HTTP 500.
    pub fail_next_calls: u32,
    /// Write error codes the way the live gateway sometimes does (`"ABDM-1027: "`).
    pub quirky_error_codes: bool,
    /// Corrupt the next data push from the peer HIP.
    pub corrupt_next_push: Option<PushCorruption>,
    /// Split the peer HIP's pushes into this many pages (at least 1).
    pub push_pages: u32,
    /// The peer HIU takes this long to accept each page pushed to it (a slow hospital).
    pub peer_hiu_delay_ms: u64,
    /// The peer HIP leaves out this page of its next push (a page lost on the way).
    pub drop_next_push_page: Option<u32>,
}

/// How the next push from the peer HIP is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushCorruption {
    /// A wrong checksum on an entry.
    Checksum,
    /// A flipped bit in an entry's GCM tag.
    Tag,
    /// Sealed for another HIU's key (the right key material announced).
    Key,
}
