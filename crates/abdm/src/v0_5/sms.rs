//! SMS to the patient (gateway spec, *patient notification*): a deep link to the PHR app so the
//! patient can link records made here.

use serde::{Deserialize, Serialize};

use super::common::{Callback, Request};

pub mod notify {
    //! `POST /v0.5/patients/sms/notify` — "API for HIP to send SMS notifications to patients"
    //! (`PatientSMSNotifcationRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        pub phone_no: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub receiver_name: Option<String>,
        pub care_context_info: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deeplink_url: Option<String>,
        pub hip: crate::v0_5::Organization,
    }

    crate::operation!(Post "/v0.5/patients/sms/notify", Gateway, Request<Body>, callback = super::on_notify::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_notify {
    //! `POST /v0.5/patients/sms/on-notify` — "Acknowledgment response for SMS notification sent to
    //! patient by HIP" (`PatientSMSNotifcationResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<SmsStatus>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum SmsStatus {
        Acknowledged,
        Errored,
    }

    crate::operation!(Post "/v0.5/patients/sms/on-notify", Bridge, Callback<Body>, spec = "hip-0.5.yaml");
}
