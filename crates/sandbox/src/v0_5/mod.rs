//! The v0.5 generation's endpoints: the gateway (sessions, certs, bridges, user auth, linking,
//! profile share, SMS), the ABHA service (health id v1) and the consent manager's endpoints.

pub(crate) mod consent;
pub(crate) mod gateway;
pub(crate) mod healthid;
