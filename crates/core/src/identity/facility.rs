//! The clinic with ABDM: its facility (HFR id) as HIP and HIU, and the bridge URL.

use desk_store::{HealthFacility, Id};

use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::Gateway;

impl<G: Gateway> Desk<G> {
    /// Links the clinic's HFR id to our bridge as HIP and HIU, and remembers it.
    pub async fn register_facility(&self, hf_id: &str, name: &str) -> Result<HealthFacility> {
        self.gateway.register_facility(hf_id, name).await?;
        self.store.write(|w| -> Result<HealthFacility> {
            let mut f = w
                .get::<HealthFacility>(&Id::text("this"))?
                .unwrap_or_default();
            f.hf_id = hf_id.into();
            f.name = name.into();
            f.registered = true;
            w.put(&f);
            w.audit(
                "facility registered with ABDM",
                format!("{name} ({hf_id})"),
                None,
            )?;
            Ok(f)
        })
    }

    /// Registers the relay as our bridge URL with the gateway.
    pub async fn register_bridge(&self, url: &str) -> Result<()> {
        self.gateway.register_bridge(url).await?;
        self.store.write(|w| -> Result<()> {
            let mut f = w
                .get::<HealthFacility>(&Id::text("this"))?
                .unwrap_or_default();
            f.bridge_url = Some(url.into());
            f.bridge_registered = true;
            w.put(&f);
            w.audit("bridge URL registered with ABDM", url, None)?;
            Ok(())
        })
    }

    pub(crate) fn facility(&self) -> Result<Option<HealthFacility>> {
        Ok(self.store.get(&Id::text("this"))?)
    }
}
