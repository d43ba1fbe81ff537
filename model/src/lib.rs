//! Face pipeline.
