//! M3, the clinic as Health Information User: consent requests, receiving and reading records,
//! erasing them when consent ends. (Filled by the M3 milestone.)
