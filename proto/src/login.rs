//! Login API wire types: what the universal-login SPA reads and sends to finish a login
//! transaction started at `/authorize`.

use serde::{Deserialize, Serialize};

/// An authenticator kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticatorKind {
    Totp,
    Face,
}

impl AuthenticatorKind {
    pub const ALL: [Self; 2] = [Self::Face, Self::Totp];

    /// Every kind, in [`Self::ALL`]'s order: what a setting stored before it existed means.
    pub fn all() -> Vec<Self> {
        Self::ALL.to_vec()
    }

    /// The `amr` value (RFC 8176) of a sign-in with this authenticator.
    pub fn amr(self) -> &'static str {
        match self {
            Self::Totp => "otp",
            Self::Face => "face",
        }
    }

    /// The name people see.
    pub fn label(self) -> &'static str {
        match self {
            Self::Totp => "authenticator app",
            Self::Face => "face",
        }
    }
}

/// What the SPA must do next in a login transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum LoginStep {
    /// Self-enrolment of one of `allowed`: the user has no authenticator yet, or
    /// (`additional`) has just authenticated with one in this sign-in and adds another.
    Enrol {
        allowed: Vec<AuthenticatorKind>,
        #[serde(default)]
        additional: bool,
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
}

/// `GET /api/login/{transaction}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    pub application_name: String,
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

/// A head movement the person is asked to make, as seen by the camera (images are not
/// mirrored: "left" is the person's own left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadMovement {
    TurnLeft,
    TurnRight,
    LookUp,
}

/// What a face challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacePurpose {
    Enrol,
    Authenticate,
}

/// `POST /api/login/{tx}/face/challenge`: what the person must do, once, before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceChallenge {
    pub nonce: String,
    pub expires_at: u64,
    pub purpose: FacePurpose,
    /// Look at the camera first, then make these movements in this order.
    pub steps: Vec<HeadMovement>,
}

/// One captured frame of the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceFrame {
    /// `None` for the frontal frame before the movements, else the index of the step in
    /// [`FaceChallenge::steps`].
    #[serde(default)]
    pub step: Option<usize>,
    /// The 112x112 aligned face, JPEG, base64.
    pub aligned_jpeg: String,
    /// The 128x128 liveness crop (face with context), PNG, base64. Lossless: JPEG
    /// artefacts shift the liveness score.
    pub context_png: String,
    /// The browser's 68 landmarks in frame coordinates (guidance only; the server finds its
    /// own).
    #[serde(default)]
    pub landmarks: Vec<[f32; 2]>,
}

/// `POST /api/login/{tx}/face` (authenticate) or `/face/enrol`: the evidence for a challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceEvidence {
    pub nonce: String,
    pub frames: Vec<EvidenceFrame>,
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
