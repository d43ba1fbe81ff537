//! One module per route.

pub mod console;
pub mod home;
pub mod login;
