//! M2, the clinic as Health Information Provider: consultations as care contexts, linking,
//! consent artefacts, and encrypted data transfers. (Filled by the M2 milestone.)
