//! A client of the sandbox's own pages: the patient's phone and the operator's actions (a patient
//! scans a counter QR, grants a consent, …). The demo and the tests drive the simulated patients
//! through it.

use std::time::Duration;

use serde_json::{json, Value};

/// The sandbox's operator pages at a base URL.
#[derive(Clone)]
pub struct Operator {
    http: reqwest::Client,
    base: String,
}

impl Operator {
    /// The sandbox at `base` (`http://127.0.0.1:8090`).
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.into().trim_end_matches('/').to_string(),
        }
    }

    /// `GET {base}{path}` as JSON.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| format!("the sandbox does not answer: {e}"))?;
        r.json()
            .await
            .map_err(|e| format!("the sandbox answered {path} oddly: {e}"))
    }

    /// `POST {base}{path}` with a JSON body, as JSON (null for an empty answer).
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("the sandbox does not answer: {e}"))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!("the sandbox refused {path} ({status}): {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The newest message on the patients' phone for a transaction (waits up to 10 s).
    pub async fn phone_message(&self, txn: &str) -> Result<Value, String> {
        for _ in 0..400 {
            let messages = self.get("/phone").await?;
            if let Some(m) = messages
                .as_array()
                .and_then(|all| all.iter().rev().find(|m| m["txnId"] == txn))
            {
                return Ok(m.clone());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!(
            "no message arrived on the simulated phone for {txn}"
        ))
    }

    /// The OTP the phone received for a transaction.
    pub async fn otp(&self, txn: &str) -> Result<String, String> {
        let m = self.phone_message(txn).await?;
        m["otp"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| "the phone message has no OTP".into())
    }

    /// `PUT {base}{path}` with a JSON body (fault injection).
    pub async fn put(&self, path: &str, body: Value) -> Result<Value, String> {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("the sandbox does not answer: {e}"))?;
        if !r.status().is_success() {
            return Err(format!("the sandbox refused {path} ({})", r.status()));
        }
        r.json()
            .await
            .map_err(|e| format!("the sandbox answered {path} oddly: {e}"))
    }

    /// The newest OTP texted to `mobile` after `seen` messages to it (waits up to 10 s).
    pub async fn sms_otp(&self, mobile: &str, seen: usize) -> Result<String, String> {
        for _ in 0..400 {
            let messages = self.get(&format!("/phone?to={mobile}")).await?;
            let all = messages.as_array().cloned().unwrap_or_default();
            if let Some(otp) = all.iter().skip(seen).rev().find_map(|m| m["otp"].as_str()) {
                return Ok(otp.to_string());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!("no OTP was texted to {mobile}"))
    }

    /// How many messages `mobile` has received.
    pub async fn sms_count(&self, mobile: &str) -> Result<usize, String> {
        let messages = self.get(&format!("/phone?to={mobile}")).await?;
        Ok(messages.as_array().map_or(0, Vec::len))
    }

    /// The peer HIU asks a HIP for records (see `POST /admin/peer-hiu/request`); returns the
    /// consent id and the transaction id.
    pub async fn peer_hiu_request(&self, body: Value) -> Result<(String, String), String> {
        let v = self.post("/admin/peer-hiu/request", body).await?;
        match (v["consentId"].as_str(), v["transactionId"].as_str()) {
            (Some(c), Some(t)) => Ok((c.into(), t.into())),
            _ => Err(format!("the peer HIU could not ask: {v}")),
        }
    }

    /// What the peer HIU received and heard in a transaction.
    pub async fn peer_hiu_report(&self, txn: &str) -> Result<Value, String> {
        self.get(&format!("/admin/peer-hiu/reports/{txn}")).await
    }

    /// The FHIR bundles the peer HIU decrypted in a transaction.
    pub async fn peer_hiu_bundles(&self, txn: &str) -> Result<Vec<Value>, String> {
        let v = self.get(&format!("/admin/peer-hiu/bundles/{txn}")).await?;
        v.as_array()
            .cloned()
            .ok_or_else(|| format!("no bundles for {txn}"))
    }

    /// A patient scans a clinic's counter QR; returns the token the clinic gave (waits up to 10 s).
    pub async fn share(&self, abha: &str, hip_id: &str, counter: &str) -> Result<String, String> {
        let started = self
            .post(
                "/admin/share",
                json!({"abha": abha, "hipId": hip_id, "counterId": counter}),
            )
            .await?;
        let id = started["requestId"]
            .as_str()
            .ok_or("the sandbox gave no request id")?
            .to_string();
        for _ in 0..400 {
            let s = self.get(&format!("/admin/shares/{id}")).await?;
            if let Some(t) = s["tokenNumber"].as_str() {
                return Ok(t.to_string());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!("the clinic did not answer the share of {abha}"))
    }

    /// The token the gateway puts on its own callbacks, issued `ago` seconds back.
    pub async fn gateway_token(&self, ago: u64) -> Result<String, String> {
        let v = self
            .post("/admin/gateway-token", json!({"issuedSecondsAgo": ago}))
            .await?;
        v["accessToken"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| "the sandbox gave no token".into())
    }
}
