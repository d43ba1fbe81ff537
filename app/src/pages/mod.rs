//! One module per route.

pub mod console;
pub mod face;
pub mod home;
pub mod login;
