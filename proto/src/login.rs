//! Login API wire types: what the universal-login SPA reads and sends to finish a login
//! transaction started at `/authorize`.

use serde::{Deserialize, Serialize};

/// An authenticator kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticatorKind {
    Totp,
    Face,
    /// A WebAuthn credential (FIDO2 passkey) with user verification.
    Passkey,
    /// One of the user's one-time recovery codes: made at their first enrolment (and anew
    /// after proving another authenticator), each usable once. Every application accepts it,
    /// so a person whose camera or phone fails is not locked out; it is not a policy choice.
    RecoveryCode,
}

impl AuthenticatorKind {
    /// The kinds an application chooses from (recovery codes are not one: every
    /// application takes them).
    pub const ALL: [Self; 3] = [Self::Face, Self::Totp, Self::Passkey];

    /// What an application accepts when nothing was chosen, and what a setting stored
    /// before the choice existed means: face and authenticator app. Passkeys are chosen
    /// per application (their relying party is the issuer's host name, which must be a
    /// domain name, not an IP address).
    pub fn all() -> Vec<Self> {
        vec![Self::Face, Self::Totp]
    }

    /// The `amr` values (RFC 8176) of a sign-in with this authenticator. A passkey is
    /// `swk` (a proof of possession of a key; the attestation is not asked for, so nothing
    /// shows the key is in hardware: `hwk` would claim what was not checked) and `user`
    /// (the authenticator verified the person: user verification is required, and it does
    /// not say whether by PIN or by a biometric, so neither `pin` nor `fpt` is claimed). A
    /// recovery code is a one-time password: `otp`.
    pub fn amr_values(self) -> &'static [&'static str] {
        match self {
            Self::Totp | Self::RecoveryCode => &["otp"],
            Self::Face => &["face"],
            Self::Passkey => &["swk", "user"],
        }
    }

    /// A short stable name, as the wire spells it: storage keys, audit entries, element ids.
    pub fn id(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Face => "face",
            Self::Passkey => "passkey",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

/// What the SPA must do next in a login transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum LoginStep {
    /// Self-enrolment of one of `allowed`: the user has no authenticator yet, or
    /// (`additional`) has just authenticated with one in this sign-in and adds another.
    /// With `optional`, what they proved is one the application accepts: they may skip the
    /// addition and finish signing in (`POST /api/login/{tx}/skip`).
    Enrol {
        allowed: Vec<AuthenticatorKind>,
        #[serde(default)]
        additional: bool,
        #[serde(default)]
        optional: bool,
    },
    /// Authenticate with one of `enrolled`. The user may then add one of `can_add` (the
    /// application accepts it and they do not have it yet); with `must_add`, none of their
    /// authenticators is one the application accepts, so they prove who they are with one
    /// of theirs and then must enrol one of `can_add`.
    Authenticate {
        enrolled: Vec<AuthenticatorKind>,
        #[serde(default)]
        can_add: Vec<AuthenticatorKind>,
        #[serde(default)]
        must_add: bool,
    },
    /// Finished: send the browser to `redirect_to` (the client's callback with the code).
    Done { redirect_to: String },
    /// New recovery codes, shown this once (only their hashes are kept): the answer to a
    /// first enrolment and to `POST /api/login/{tx}/recovery/new`. Once the person has saved
    /// them, `POST /api/login/{tx}/skip` finishes the sign-in. Never the answer to `GET`.
    RecoveryCodes { codes: Vec<String> },
}

/// `GET /api/login/{transaction}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    pub application_name: String,
    /// Where the application's logo is served (this origin), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_logo: Option<String>,
    pub username: String,
    /// Unix seconds after which the transaction is gone.
    pub expires_at: u64,
    #[serde(flatten)]
    pub step: LoginStep,
}

/// `POST /api/login/{transaction}/totp/enrol`: a new, unconfirmed TOTP secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    /// `otpauth://totp/...` for authenticator apps.
    pub otpauth_uri: String,
    /// The secret in base32, for manual entry.
    pub secret: String,
    /// The QR code of `otpauth_uri` as an SVG document.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(<hidden>)")
    }
}

/// A six-digit TOTP code typed by the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpAnswer {
    pub code: String,
    /// Delete the user's face enrolment once this answer authenticates them.
    #[serde(default)]
    pub forget_face: bool,
    /// Once this answer authenticates them, go on to add another authenticator.
    #[serde(default)]
    pub add_authenticator: bool,
}

/// `POST /api/login/{transaction}/recovery`: a recovery code typed by the user (spaces,
/// dashes and case do not matter).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryAnswer {
    pub code: String,
    /// Once this answer authenticates them, go on to add another authenticator.
    #[serde(default)]
    pub add_authenticator: bool,
}

impl std::fmt::Debug for RecoveryAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryAnswer {{ code: <hidden>, add_authenticator: {} }}", self.add_authenticator)
    }
}

/// What a face challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacePurpose {
    Enrol,
    Authenticate,
}

/// A colour the screen shows during the light check. The palette differs in chromaticity,
/// not just brightness: each colour tints a face it lights in its own direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreenColour {
    Red,
    Green,
    Blue,
    Yellow,
    Cyan,
    Magenta,
}

impl ScreenColour {
    pub const ALL: [Self; 6] = [Self::Red, Self::Green, Self::Blue, Self::Yellow, Self::Cyan, Self::Magenta];

    /// The colour at full brightness, sRGB.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Self::Red => [255, 0, 0],
            Self::Green => [0, 255, 0],
            Self::Blue => [0, 0, 255],
            Self::Yellow => [255, 255, 0],
            Self::Cyan => [0, 255, 255],
            Self::Magenta => [255, 0, 255],
        }
    }

    /// The CSS colour (`#rrggbb`).
    pub fn css(self) -> String {
        let [r, g, b] = self.rgb();
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// One colour of the sequence, shown for `ms` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub colour: ScreenColour,
    pub ms: u32,
}

/// An oval the face must fill, in fractions of the camera image as the camera sees it (not
/// mirrored): the centre, and the width the face should have (its detected box, over the
/// image width). The page draws the oval a little larger than the face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Oval {
    pub cx: f32,
    pub cy: f32,
    pub width: f32,
}

/// `POST /api/login/{tx}/face/challenge` body (optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceChallengeRequest {
    /// The person asked their system for reduced motion: the colours change more slowly.
    #[serde(default)]
    pub reduced_motion: bool,
}

/// `POST /api/login/{tx}/face/challenge`: what the person must do, once, before `expires_at`.
///
/// The capture: the page shows the camera inside `far` (a small oval: the person is at arm's
/// length) with the screen around it white, then inside `near` (a large one: they come
/// closer until their face fills it), then fills the screen around the oval with each colour
/// of `flashes` in turn. Frames are whole camera images, `frame_width` x `frame_height`:
/// exactly `far_frames` in the small oval and `near_frames` in the large one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceChallenge {
    pub nonce: String,
    pub expires_at: u64,
    pub purpose: FacePurpose,
    pub far: Oval,
    pub near: Oval,
    pub far_frames: u8,
    pub near_frames: u8,
    pub flashes: Vec<Flash>,
    pub frame_width: u32,
    pub frame_height: u32,
}

/// Which part of the capture a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapturePhase {
    /// The face in the small oval, the screen white.
    Far,
    /// The face in the large oval, the screen white, before the colours.
    Near,
    /// The face in the large oval while the colours are shown.
    Light,
}

/// One captured frame of the evidence: the whole camera image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceFrame {
    pub phase: CapturePhase,
    /// Milliseconds from the start of the capture (the small oval shown) to this frame.
    pub t_ms: u32,
    /// The whole camera image, downscaled to the challenge's frame size, JPEG, base64.
    pub jpeg: String,
}

/// `POST /api/login/{tx}/face` (authenticate) or `/face/enrol`: the evidence for a challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceEvidence {
    pub nonce: String,
    pub frames: Vec<EvidenceFrame>,
    /// Milliseconds from the start of the capture to the first colour of the sequence.
    pub flashes_at_ms: u32,
    /// Milliseconds from the start of the capture to when each colour appeared, then to when
    /// the screen went back to white (one more than the colours). Empty: each colour
    /// appeared on the challenge's schedule from `flashes_at_ms`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colours_shown_ms: Vec<u32>,
    /// Enrolment only: the person agreed to the processing of their biometric data.
    #[serde(default)]
    pub consent: bool,
    /// Authentication only: delete the face enrolment once this evidence authenticates the
    /// person (they withdraw their consent; proving it is them first stops anyone else
    /// from wiping it).
    #[serde(default)]
    pub forget_face: bool,
    /// Authentication only: once it succeeds, go on to add another authenticator.
    #[serde(default)]
    pub add_authenticator: bool,
}

/// `POST /api/login/{tx}/passkey/options`: what the page passes to the browser's WebAuthn
/// call (`navigator.credentials.create` to enrol, `.get` to authenticate). Byte strings are
/// base64url without padding. The challenge works once, before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyOptions {
    pub purpose: FacePurpose,
    pub challenge: String,
    /// The relying party: the issuer's host name.
    pub rp_id: String,
    pub rp_name: String,
    /// Enrolment: the user handle (the user's id) and names the authenticator shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<PasskeyUser>,
    /// Enrolment: credentials the user has (not to be made twice); authentication: the
    /// ones that may answer (empty: any discoverable credential of this site).
    #[serde(default)]
    pub credential_ids: Vec<String>,
    pub timeout_ms: u32,
    pub expires_at: u64,
}

/// The user entity of a passkey enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyUser {
    pub id: String,
    pub name: String,
    pub display_name: String,
}

/// `POST /api/login/{tx}/passkey/enrol`: the new credential (the authenticator's
/// attestation response). Byte strings are base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRegistration {
    pub credential_id: String,
    pub client_data_json: String,
    pub attestation_object: String,
}

/// `POST /api/login/{tx}/passkey`: an assertion. Byte strings are base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyAssertion {
    pub credential_id: String,
    pub client_data_json: String,
    pub authenticator_data: String,
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_handle: Option<String>,
    /// Once this assertion authenticates the person, go on to add another authenticator.
    #[serde(default)]
    pub add_authenticator: bool,
}
