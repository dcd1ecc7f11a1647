//! Owned by the front-end work; not written yet.
