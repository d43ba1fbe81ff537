//! The login page's texts (sign-in steps, the face check, passkeys, recovery codes) in every
//! language the page speaks, and the choice of one from the browser's languages.
//!
//! - [`Lang`]: the languages, and [`Lang::pick`], the first of a browser's preferred
//!   languages that the page speaks (English otherwise).
//! - [`Texts`]: one field per text. Every language is a value of it ([`EN`], [`DE`]), so a
//!   text missing in one language does not compile. Texts with parts that vary name them in
//!   braces (`{app}`), filled by [`fill`]; the tests check that every language has the same
//!   parts in each text.
//!
//! The login API's answers (`api_` texts, the face hints) are here too: the worker says them
//! in the language of the request's `Accept-Language`, which the browser sends from the same
//! preferences as `navigator.languages`. The admin console stays in English: its readers are
//! the deployment's administrators.

use biopass_proto::login::AuthenticatorKind;

/// A language the login page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Self; 2] = [Self::En, Self::De];

    /// The BCP 47 primary tag (`<html lang>`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// The first of `preferred` (the browser's languages, most wanted first, e.g.
    /// `navigator.languages`) that the page speaks, by primary tag (`de-CH` is German);
    /// English when there is none.
    pub fn pick<S: AsRef<str>>(preferred: &[S]) -> Self {
        preferred
            .iter()
            .find_map(|tag| {
                let primary = tag.as_ref().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
                Self::ALL.into_iter().find(|l| l.tag() == primary)
            })
            .unwrap_or(Self::En)
    }

    /// The language of an HTTP `Accept-Language` header (RFC 9110 §12.5.4): its tags in
    /// order of their weights (`q`, 1 when absent; 0 means "not this one"), then [`Self::pick`].
    pub fn from_accept_language(header: &str) -> Self {
        let mut tags: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let tag = bits.next()?.trim();
                let q = bits.find_map(|b| b.trim().strip_prefix("q=").map(|v| v.trim().parse::<f32>().unwrap_or(0.0))).unwrap_or(1.0);
                (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
            })
            .collect();
        tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        Self::pick(&tags.iter().map(|t| t.2).collect::<Vec<_>>())
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::De => &DE,
        }
    }
}

impl Texts {
    /// An authenticator's name in running text ("your {face}").
    pub fn kind(&self, kind: AuthenticatorKind) -> &'static str {
        match kind {
            AuthenticatorKind::Face => self.kind_face,
            AuthenticatorKind::Totp => self.kind_totp,
            AuthenticatorKind::Passkey => self.kind_passkey,
            AuthenticatorKind::RecoveryCode => self.kind_recovery_code,
        }
    }
}

/// `template` with each `{name}` replaced by its value in `parts`.
pub fn fill(template: &str, parts: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in parts {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

macro_rules! texts {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Every text of the login page, in one language.
        #[derive(Debug)]
        pub struct Texts {
            $($(#[$doc])* pub $name: &'static str,)*
        }

        impl Texts {
            /// Every text with its field name (for the tests).
            pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($name), self.$name),)*]
            }
        }
    };
}

texts! {
    // The page.
    loading, cannot_continue, this_application,
    /// `{app}`.
    title, signing_in_as, no_authenticator_no_enrol, none_usable, signed_in_returning,
    or, continue_, checking, sign_in, try_again, stop, done_prefix,
    // Authenticator names in running text (after "your").
    kind_face, kind_totp, kind_passkey, kind_recovery_code,
    // Choices: title and what it means.
    choice_face, choice_face_what, choice_totp, choice_totp_what, choice_passkey, choice_passkey_what,
    choice_recovery, choice_recovery_what,
    instead_face, instead_totp, instead_passkey, instead_recovery,
    setup_totp_instead, create_passkey_instead, choose_another_way,
    add_a_way, choose_how, add_confirmed,
    /// `{app}`.
    first_sign_in_choose,
    /// `{app}`.
    first_sign_in,
    skip_addition,
    /// `{app}`, `{kinds}` (to add), `{enrolled}` (theirs).
    must_add,
    offer_codes,
    /// `{kinds}`.
    offer_kinds,
    /// `{kinds}`.
    offer_kinds_or_codes,
    delete_face, delete_face_what, delete_face_tick,
    // Passkeys.
    passkey_create, passkey_add, passkey_sign_in, passkey_device_asks, passkey_use, passkey_waiting, passkey_stays,
    passkey_cancelled_create, passkey_cancelled_use, passkey_exists, passkey_not_here, passkey_unsupported,
    /// `{m}`: the browser's words.
    passkey_failed,
    // Authenticator app.
    totp_setup, totp_add, totp_scan, totp_preparing, totp_qr, totp_cannot_scan, totp_the_key, totp_open_here,
    totp_code_from_the_app, totp_confirm, totp_enter, totp_code_from_your_app,
    // Recovery codes.
    recovery_use, recovery_use_what, recovery_code, recovery_new, recovery_new_what, recovery_make,
    recovery_save, recovery_save_what, recovery_the_codes, recovery_saved,
    // Copying.
    /// `{label}`: what is copied.
    copy_label, copy, copied, copy_failed, copied_status, copy_refused,
    // The face check.
    face_setup, face_sign_in,
    /// `{app}`.
    face_consent_intro,
    face_consent_template, face_consent_pictures, face_consent_delete,
    /// `{app}`.
    face_consent_tick,
    face_colours_warning,
    /// `{seconds}`.
    face_seconds_left,
    face_steps, face_step_far, face_step_near, face_step_colours, face_colours_shown, face_your_camera,
    face_looking, face_starting_camera,
    /// `{pct}`.
    face_downloading,
    face_done_returning,
    face_instruction_far, face_instruction_near, face_instruction_light,
    face_no_face, face_several_faces, face_too_dark, face_closer_far, face_closer_near, face_back_far, face_back_near,
    face_into_oval, face_look_straight, face_good,
    face_camera_refused, face_no_camera, face_camera_in_use, face_camera_failed, face_tracking_failed, face_time_up,
    face_stopped, face_locked, face_not_recognised, face_expired, face_could_not_check,
    /// `{m}`: the reason.
    face_models_failed,
    /// `{seconds}`.
    face_time_up_what,
    face_stopped_what,
    camera_unsupported, camera_refused_what, camera_none_what, camera_in_use_what,
    /// `{m}`: the browser's words.
    camera_failed_what,
    // The login API's answers (the worker says them in the language of `Accept-Language`).
    api_gone, api_disabled, api_malformed_code, api_cannot_enrol, api_other_browser,
    api_locked_browser, api_locked_authenticator,
    /// `{message}`, `{n}`.
    api_attempts_left,
    api_accept_to_finish, api_recovery_malformed, api_recovery_wrong,
    /// `{kind}`.
    api_not_accepted_new,
    api_prove_first,
    /// `{kind}`.
    api_kind_not_available,
    /// `{kind}`.
    api_kind_not_enrolled,
    api_totp_start_first, api_totp_enrol_wrong, api_totp_used, api_totp_wrong,
    api_face_not_available, api_face_challenge_gone,
    /// `{n}`.
    api_face_frames,
    api_face_consent,
    api_passkeys_not_here, api_passkeys_full, api_passkey_not_available, api_passkey_gone, api_passkey_exists,
    api_passkey_malformed, api_passkey_not_for_this, api_passkey_not_verified, api_passkey_algorithm, api_passkey_unknown, api_passkey_copied,
    /// `{minutes}`.
    api_retry_authenticator,
    /// `{minutes}`.
    api_retry_browser,
    /// `{minutes}`.
    api_retry_network,
    /// `{seconds}`.
    api_retry_account_seconds,
    /// `{minutes}`.
    api_retry_account_minutes,
    /// `{m}`: what did not fit (technical, as the check says it).
    api_face_inconsistent,
    api_face_flat, api_face_no_light, api_face_not_live, api_face_different_people, api_face_not_recognised,
    /// `{m}`: what to do ([`Texts::face_hint_look_straight`] and the other hints).
    api_face_poor,
    face_hint_look_straight, face_hint_look_moment, face_hint_room_dark, face_hint_lost, face_hint_too_dark, face_hint_blurred,
    face_hint_unclear, face_hint_back_far, face_hint_closer_near, face_hint_hold_still,
}

/// English.
pub static EN: Texts = Texts {
    loading: "Loading your sign-in…",
    cannot_continue: "Sign-in cannot continue",
    this_application: "this application",
    title: "Sign in to {app}",
    signing_in_as: "Signing in as",
    no_authenticator_no_enrol: "You have no authenticator set up, and this sign-in cannot set one up. Ask your administrator.",
    none_usable: "None of your authenticators can be used here. Ask your administrator.",
    signed_in_returning: "Signed in. Returning to the application…",
    or: " or ",
    continue_: "Continue",
    checking: "Checking…",
    sign_in: "Sign in",
    try_again: "Try again",
    stop: "Stop",
    done_prefix: "Done: ",
    kind_face: "face",
    kind_totp: "authenticator app",
    kind_passkey: "passkey",
    kind_recovery_code: "recovery code",
    choice_face: "Face",
    choice_face_what: "Look at your camera while the screen shows a few colours. Nothing to install.",
    choice_totp: "Authenticator app",
    choice_totp_what: "Type a 6-digit code from an app on your phone.",
    choice_passkey: "Passkey",
    choice_passkey_what: "Use your device's screen lock (fingerprint, face or PIN) or a security key.",
    choice_recovery: "New recovery codes",
    choice_recovery_what: "Ten new one-time codes for when you cannot use your authenticator. The old ones stop working.",
    instead_face: "Use your face instead",
    instead_totp: "Use your authenticator app instead",
    instead_passkey: "Use a passkey instead",
    instead_recovery: "Use a recovery code instead",
    setup_totp_instead: "Set up an authenticator app instead",
    create_passkey_instead: "Create a passkey instead",
    choose_another_way: "Choose another way",
    add_a_way: "Add a way to sign in",
    choose_how: "Choose how you will sign in",
    add_confirmed: "You have confirmed it is you. Choose the authenticator to add.",
    first_sign_in_choose: "This is your first sign-in to {app}. Choose the authenticator you will use from now on.",
    first_sign_in: "This is your first sign-in to {app}.",
    skip_addition: "Skip this and finish signing in",
    must_add: "{app} now asks for your {kinds}. First confirm it is you with your {enrolled}; then set up your {kinds}.",
    offer_codes: "Also make new recovery codes after this sign-in",
    offer_kinds: "Also set up your {kinds} after this sign-in",
    offer_kinds_or_codes: "Also set up your {kinds} or make new recovery codes after this sign-in",
    delete_face: "Delete my face data",
    delete_face_what: "Your face template is used only to sign you in. Tick the box, then finish this sign-in: once you are signed in, it is deleted, and next time you choose a new way to sign in.",
    delete_face_tick: "Delete my face data when I sign in",
    passkey_create: "Create a passkey",
    passkey_add: "Add a passkey to your account.",
    passkey_sign_in: "Sign in with your passkey",
    passkey_device_asks: "Your device will ask for your fingerprint, face, PIN or security key.",
    passkey_use: "Use my passkey",
    passkey_waiting: "Waiting for your device…",
    passkey_stays: "A passkey stays on your device (or your password manager); only its public key leaves it.",
    passkey_cancelled_create: "The passkey was not created: the request was cancelled or timed out. Try again, and confirm on your device.",
    passkey_cancelled_use: "No passkey was used: the request was cancelled or timed out, or this device has no passkey for this account. Try again, or use another way to sign in.",
    passkey_exists: "This device already has a passkey for your account. Sign in with it instead.",
    passkey_not_here: "Passkeys are not allowed on this page. Use another way to sign in, or ask your administrator.",
    passkey_unsupported: "This browser or device cannot use passkeys. Use another way to sign in.",
    passkey_failed: "The passkey request failed: {m}. Try again, or use another way to sign in.",
    totp_setup: "Set up an authenticator app",
    totp_add: "Add an authenticator app to your account.",
    totp_scan: "Scan the code with an authenticator app (for example Google Authenticator, Microsoft Authenticator or 1Password), then type the 6-digit code it shows.",
    totp_preparing: "Preparing your code…",
    totp_qr: "QR code for your authenticator app",
    totp_cannot_scan: "Cannot scan? Enter this key:",
    totp_the_key: "the key",
    totp_open_here: "Open in an authenticator app on this device",
    totp_code_from_the_app: "6-digit code from the app",
    totp_confirm: "Confirm and sign in",
    totp_enter: "Enter your code",
    totp_code_from_your_app: "6-digit code from your authenticator app",
    recovery_use: "Use a recovery code",
    recovery_use_what: "Type one of the recovery codes you saved when you set up your sign-in. Each code works once.",
    recovery_code: "Recovery code",
    recovery_new: "Make new recovery codes",
    recovery_new_what: "You get ten new codes, shown once. Your old recovery codes stop working.",
    recovery_make: "Make new codes",
    recovery_save: "Save your recovery codes",
    recovery_save_what: "If you cannot use your authenticator (a lost phone, a camera that fails), each of these codes signs you in once. Keep them somewhere safe, such as a password manager or a printed page: they are not shown again.",
    recovery_the_codes: "the codes",
    recovery_saved: "I have saved these codes",
    copy_label: "Copy {label}",
    copy: "Copy",
    copied: "Copied",
    copy_failed: "Copy failed: select the text and copy it",
    copied_status: "Copied to the clipboard",
    copy_refused: "The browser did not allow copying",
    face_setup: "Set up face sign-in",
    face_sign_in: "Sign in with your face",
    face_consent_intro: "{app} will use your camera to check that you are a live person and to learn your face: fit your face in an oval, then come closer to the screen while it shows a few colours (it takes about ten seconds).",
    face_consent_template: "From a few pictures we compute a face template: numbers that describe your face. It is stored encrypted and used only to recognise you when you sign in.",
    face_consent_pictures: "The pictures are used for this check and not kept.",
    face_consent_delete: "You can delete it at any time when you sign in (\u{201c}Delete my face data\u{201d}), and so can your administrator.",
    face_consent_tick: "I agree to {app} processing my face (biometric data) to sign me in.",
    face_colours_warning: "The screen will show a few bright colours for about two seconds.",
    face_seconds_left: "{seconds} seconds left.",
    face_steps: "Steps of the face check",
    face_step_far: "Small oval",
    face_step_near: "Come closer",
    face_step_colours: "Colours",
    face_colours_shown: "Colours shown",
    face_your_camera: "Your camera",
    face_looking: "Looking for your face…",
    face_starting_camera: "Starting the camera…",
    face_downloading: "Downloading the face models… {pct}%",
    face_done_returning: "Done. Returning to the application…",
    face_instruction_far: "Fit your face in the small oval",
    face_instruction_near: "Come closer until your face fills the oval",
    face_instruction_light: "Hold still, keep your face in the light of the screen",
    face_no_face: "We cannot see a face. Look at the camera.",
    face_several_faces: "More than one face is in view. Only you should be in front of the camera.",
    face_too_dark: "It is too dark. Turn on a light or face a window.",
    face_closer_far: "Come a little closer: your face should fit the small oval.",
    face_closer_near: "Come closer until your face fills the oval.",
    face_back_far: "Move back until your face fits the small oval.",
    face_back_near: "Move back a little: your face should just fill the oval.",
    face_into_oval: "Move your face into the oval.",
    face_look_straight: "Look straight at the camera.",
    face_good: "Good, hold still…",
    face_camera_refused: "Camera access refused",
    face_no_camera: "No camera found",
    face_camera_in_use: "Camera in use",
    face_camera_failed: "The camera did not start",
    face_tracking_failed: "Face tracking did not start",
    face_time_up: "Time is up",
    face_stopped: "Face check stopped",
    face_locked: "Face sign-in is locked",
    face_not_recognised: "Not recognised",
    face_expired: "This check has expired",
    face_could_not_check: "We could not check your face",
    face_models_failed: "The face models could not be loaded ({m}). Check your connection and try again.",
    face_time_up_what: "The face check must be finished within {seconds} seconds. Try again, and follow the instructions above the picture.",
    face_stopped_what: "You stopped the face check. Start it again when you are ready.",
    camera_unsupported: "This browser cannot use a camera here. Open the sign-in in an up-to-date browser over https.",
    camera_refused_what: "Camera access was refused. Allow the camera for this site in your browser's settings (the camera icon in the address bar), then try again.",
    camera_none_what: "No camera was found. Connect a camera, or use another way to sign in.",
    camera_in_use_what: "The camera is in use by another application. Close it (for example a video call), then try again.",
    camera_failed_what: "The camera could not start: {m}",
    api_gone: "This sign-in has expired or was already completed. Go back to the application and sign in again.",
    api_disabled: "This account is disabled. Ask your administrator.",
    api_malformed_code: "Enter the 6 digits shown in your authenticator app.",
    api_cannot_enrol: "You have no authenticator enrolled, and this sign-in cannot enrol one. Ask your administrator.",
    api_other_browser: "This sign-in was started in another browser. Start again from the application.",
    api_locked_browser: "Too many failed attempts: this browser is locked for 15 minutes.",
    api_locked_authenticator: "Too many failed attempts: this authenticator is locked for 15 minutes.",
    api_attempts_left: "{message} {n} attempts left.",
    api_accept_to_finish: "Set up a way to sign in that this application accepts to finish signing in.",
    api_recovery_malformed: "Enter a recovery code as it was shown: 10 letters and digits, like 7K3QD-M9XPA.",
    api_recovery_wrong: "That recovery code is not right, or was already used.",
    api_not_accepted_new: "This application does not accept a new {kind} here.",
    api_prove_first: "Sign in with an authenticator you have first; then you can add another.",
    api_kind_not_available: "Signing in with your {kind} is not available for this application.",
    api_kind_not_enrolled: "No {kind} is enrolled for this account.",
    api_totp_start_first: "Start the authenticator app set-up first.",
    api_totp_enrol_wrong: "That code is not right. Check your device's clock and try the current code.",
    api_totp_used: "That code was already used. Wait for the next one.",
    api_totp_wrong: "That code is not right.",
    api_face_not_available: "Face sign-in is not available for this account here.",
    api_face_challenge_gone: "This face check has expired or was already used. Start it again.",
    api_face_frames: "Send between 1 and {n} frames.",
    api_face_consent: "Face sign-in needs your consent to process your face.",
    api_passkeys_not_here: "Passkeys are not available here: the sign-in page must be served from a domain name. Use another way to sign in.",
    api_passkeys_full: "This account has as many passkeys as it may have. Ask your administrator to remove one.",
    api_passkey_not_available: "Signing in with a passkey is not available for this application.",
    api_passkey_gone: "This passkey request has expired or was already used. Try again.",
    api_passkey_exists: "This passkey is already registered for your account.",
    api_passkey_malformed: "The passkey's answer could not be read. Try again.",
    api_passkey_not_for_this: "This passkey answer was not made for this sign-in. Start again from the application.",
    api_passkey_not_verified: "Your device did not verify you (PIN, fingerprint or face). Try again and confirm on your device.",
    api_passkey_algorithm: "This passkey uses a kind of key that is not accepted here. Use another passkey or another way to sign in.",
    api_passkey_unknown: "That passkey is not one registered for your account here.",
    api_passkey_copied: "That passkey was refused: it may have been copied. Ask your administrator.",
    api_retry_authenticator: "Too many failed attempts. Try again in {minutes} minutes.",
    api_retry_browser: "Too many failed attempts from this browser. Try again in {minutes} minutes.",
    api_retry_network: "Too many failed attempts from your network. Try again in {minutes} minutes.",
    api_retry_account_seconds: "Too many failed attempts for this account. Wait {seconds} seconds, then try again.",
    api_retry_account_minutes: "Too many failed attempts for this account. Wait {minutes} minutes, then try again.",
    api_face_inconsistent: "The face check did not go as asked ({m}). Start it again.",
    api_face_flat: "We could not confirm a live person in front of the camera. Move closer until your face fills the oval.",
    api_face_no_light: "We could not see the screen's light on your face. Keep your face in the light of the screen, close to it, and turn up its brightness.",
    api_face_not_live: "We could not confirm a live person in front of the camera. Use a real camera, in good light, without glasses that reflect.",
    api_face_different_people: "The frames do not all show the same person. Only one person should be in front of the camera.",
    api_face_not_recognised: "We did not recognise your face. Try again, facing the camera in good light.",
    api_face_poor: "{m} Then try again.",
    face_hint_look_straight: "Look straight at the camera.",
    face_hint_look_moment: "Look straight at the camera for a moment.",
    face_hint_room_dark: "The room behind you is too dark for the light check. Turn on a light.",
    face_hint_lost: "We lost sight of your face.",
    face_hint_too_dark: "Your face is too dark. Face a window or a lamp.",
    face_hint_blurred: "The picture is blurred. Hold still, and clean the camera if needed.",
    face_hint_unclear: "Your face is not clearly visible. Remove anything covering it and face the camera in good light.",
    face_hint_back_far: "Move back until your face fits the small oval.",
    face_hint_closer_near: "Move closer until your face fills the oval.",
    face_hint_hold_still: "Hold still, your face in the oval, until the colours end.",
};

/// German (formal address).
pub static DE: Texts = Texts {
    loading: "Ihre Anmeldung wird geladen…",
    cannot_continue: "Die Anmeldung kann nicht fortgesetzt werden",
    this_application: "diese Anwendung",
    title: "Bei {app} anmelden",
    signing_in_as: "Anmeldung als",
    no_authenticator_no_enrol: "Sie haben keinen Authenticator eingerichtet, und bei dieser Anmeldung kann keiner eingerichtet werden. Wenden Sie sich an Ihren Administrator.",
    none_usable: "Keiner Ihrer Authenticatoren kann hier verwendet werden. Wenden Sie sich an Ihren Administrator.",
    signed_in_returning: "Angemeldet. Zurück zur Anwendung…",
    or: " oder ",
    continue_: "Weiter",
    checking: "Wird geprüft…",
    sign_in: "Anmelden",
    try_again: "Erneut versuchen",
    stop: "Abbrechen",
    done_prefix: "Erledigt: ",
    kind_face: "Gesicht",
    kind_totp: "Authenticator-App",
    kind_passkey: "Passkey",
    kind_recovery_code: "Wiederherstellungscode",
    choice_face: "Gesicht",
    choice_face_what: "Schauen Sie in Ihre Kamera, während der Bildschirm einige Farben zeigt. Nichts zu installieren.",
    choice_totp: "Authenticator-App",
    choice_totp_what: "Geben Sie einen 6-stelligen Code aus einer App auf Ihrem Telefon ein.",
    choice_passkey: "Passkey",
    choice_passkey_what: "Verwenden Sie die Bildschirmsperre Ihres Geräts (Fingerabdruck, Gesicht oder PIN) oder einen Sicherheitsschlüssel.",
    choice_recovery: "Neue Wiederherstellungscodes",
    choice_recovery_what: "Zehn neue Einmalcodes für den Fall, dass Sie Ihren Authenticator nicht verwenden können. Die alten verlieren ihre Gültigkeit.",
    instead_face: "Stattdessen Ihr Gesicht verwenden",
    instead_totp: "Stattdessen Ihre Authenticator-App verwenden",
    instead_passkey: "Stattdessen einen Passkey verwenden",
    instead_recovery: "Stattdessen einen Wiederherstellungscode verwenden",
    setup_totp_instead: "Stattdessen eine Authenticator-App einrichten",
    create_passkey_instead: "Stattdessen einen Passkey erstellen",
    choose_another_way: "Anderen Weg wählen",
    add_a_way: "Anmeldeweg hinzufügen",
    choose_how: "Wählen Sie, wie Sie sich anmelden",
    add_confirmed: "Sie haben bestätigt, dass Sie es sind. Wählen Sie den Authenticator, den Sie hinzufügen möchten.",
    first_sign_in_choose: "Dies ist Ihre erste Anmeldung bei {app}. Wählen Sie den Authenticator, den Sie künftig verwenden.",
    first_sign_in: "Dies ist Ihre erste Anmeldung bei {app}.",
    skip_addition: "Überspringen und Anmeldung abschließen",
    must_add: "{app} verlangt jetzt: {kinds}. Bestätigen Sie zuerst mit {enrolled}, dass Sie es sind; richten Sie danach Folgendes ein: {kinds}.",
    offer_codes: "Nach dieser Anmeldung außerdem neue Wiederherstellungscodes erstellen",
    offer_kinds: "Nach dieser Anmeldung außerdem einrichten: {kinds}",
    offer_kinds_or_codes: "Nach dieser Anmeldung außerdem einrichten: {kinds}, oder neue Wiederherstellungscodes erstellen",
    delete_face: "Meine Gesichtsdaten löschen",
    delete_face_what: "Ihre Gesichtsvorlage wird nur für Ihre Anmeldung verwendet. Setzen Sie das Häkchen und schließen Sie diese Anmeldung ab: Sobald Sie angemeldet sind, wird sie gelöscht, und beim nächsten Mal wählen Sie einen neuen Anmeldeweg.",
    delete_face_tick: "Meine Gesichtsdaten bei der Anmeldung löschen",
    passkey_create: "Passkey erstellen",
    passkey_add: "Fügen Sie Ihrem Konto einen Passkey hinzu.",
    passkey_sign_in: "Mit Ihrem Passkey anmelden",
    passkey_device_asks: "Ihr Gerät fragt nach Ihrem Fingerabdruck, Gesicht, Ihrer PIN oder Ihrem Sicherheitsschlüssel.",
    passkey_use: "Meinen Passkey verwenden",
    passkey_waiting: "Warten auf Ihr Gerät…",
    passkey_stays: "Ein Passkey bleibt auf Ihrem Gerät (oder in Ihrem Passwort-Manager); nur sein öffentlicher Schlüssel verlässt es.",
    passkey_cancelled_create: "Der Passkey wurde nicht erstellt: Die Anfrage wurde abgebrochen oder ist abgelaufen. Versuchen Sie es erneut und bestätigen Sie auf Ihrem Gerät.",
    passkey_cancelled_use: "Es wurde kein Passkey verwendet: Die Anfrage wurde abgebrochen oder ist abgelaufen, oder dieses Gerät hat keinen Passkey für dieses Konto. Versuchen Sie es erneut, oder melden Sie sich auf anderem Weg an.",
    passkey_exists: "Dieses Gerät hat bereits einen Passkey für Ihr Konto. Melden Sie sich stattdessen damit an.",
    passkey_not_here: "Passkeys sind auf dieser Seite nicht erlaubt. Melden Sie sich auf anderem Weg an, oder wenden Sie sich an Ihren Administrator.",
    passkey_unsupported: "Dieser Browser oder dieses Gerät kann keine Passkeys verwenden. Melden Sie sich auf anderem Weg an.",
    passkey_failed: "Die Passkey-Anfrage ist fehlgeschlagen: {m}. Versuchen Sie es erneut, oder melden Sie sich auf anderem Weg an.",
    totp_setup: "Authenticator-App einrichten",
    totp_add: "Fügen Sie Ihrem Konto eine Authenticator-App hinzu.",
    totp_scan: "Scannen Sie den Code mit einer Authenticator-App (zum Beispiel Google Authenticator, Microsoft Authenticator oder 1Password) und geben Sie dann den 6-stelligen Code ein, den sie anzeigt.",
    totp_preparing: "Ihr Code wird vorbereitet…",
    totp_qr: "QR-Code für Ihre Authenticator-App",
    totp_cannot_scan: "Scannen nicht möglich? Geben Sie diesen Schlüssel ein:",
    totp_the_key: "den Schlüssel",
    totp_open_here: "In einer Authenticator-App auf diesem Gerät öffnen",
    totp_code_from_the_app: "6-stelliger Code aus der App",
    totp_confirm: "Bestätigen und anmelden",
    totp_enter: "Code eingeben",
    totp_code_from_your_app: "6-stelliger Code aus Ihrer Authenticator-App",
    recovery_use: "Wiederherstellungscode verwenden",
    recovery_use_what: "Geben Sie einen der Wiederherstellungscodes ein, die Sie bei der Einrichtung Ihrer Anmeldung gespeichert haben. Jeder Code funktioniert einmal.",
    recovery_code: "Wiederherstellungscode",
    recovery_new: "Neue Wiederherstellungscodes erstellen",
    recovery_new_what: "Sie erhalten zehn neue Codes, die einmal angezeigt werden. Ihre alten Wiederherstellungscodes verlieren ihre Gültigkeit.",
    recovery_make: "Neue Codes erstellen",
    recovery_save: "Speichern Sie Ihre Wiederherstellungscodes",
    recovery_save_what: "Wenn Sie Ihren Authenticator nicht verwenden können (ein verlorenes Telefon, eine Kamera, die versagt), meldet Sie jeder dieser Codes einmal an. Bewahren Sie sie sicher auf, etwa in einem Passwort-Manager oder ausgedruckt: Sie werden nicht noch einmal angezeigt.",
    recovery_the_codes: "die Codes",
    recovery_saved: "Ich habe diese Codes gespeichert",
    copy_label: "{label} kopieren",
    copy: "Kopieren",
    copied: "Kopiert",
    copy_failed: "Kopieren fehlgeschlagen: Markieren Sie den Text und kopieren Sie ihn",
    copied_status: "In die Zwischenablage kopiert",
    copy_refused: "Der Browser hat das Kopieren nicht erlaubt",
    face_setup: "Anmeldung mit Gesicht einrichten",
    face_sign_in: "Mit Ihrem Gesicht anmelden",
    face_consent_intro: "{app} verwendet Ihre Kamera, um zu prüfen, dass Sie eine lebende Person sind, und um Ihr Gesicht kennenzulernen: Bringen Sie Ihr Gesicht in ein Oval und kommen Sie dann näher an den Bildschirm, während er einige Farben zeigt (das dauert etwa zehn Sekunden).",
    face_consent_template: "Aus einigen Bildern berechnen wir eine Gesichtsvorlage: Zahlen, die Ihr Gesicht beschreiben. Sie wird verschlüsselt gespeichert und nur verwendet, um Sie bei der Anmeldung zu erkennen.",
    face_consent_pictures: "Die Bilder werden für diese Prüfung verwendet und nicht aufbewahrt.",
    face_consent_delete: "Sie können sie jederzeit bei der Anmeldung löschen (\u{201e}Meine Gesichtsdaten löschen\u{201c}), ebenso Ihr Administrator.",
    face_consent_tick: "Ich bin einverstanden, dass {app} mein Gesicht (biometrische Daten) verarbeitet, um mich anzumelden.",
    face_colours_warning: "Der Bildschirm zeigt etwa zwei Sekunden lang einige helle Farben.",
    face_seconds_left: "Noch {seconds} Sekunden.",
    face_steps: "Schritte der Gesichtsprüfung",
    face_step_far: "Kleines Oval",
    face_step_near: "Näher kommen",
    face_step_colours: "Farben",
    face_colours_shown: "Gezeigte Farben",
    face_your_camera: "Ihre Kamera",
    face_looking: "Ihr Gesicht wird gesucht…",
    face_starting_camera: "Die Kamera wird gestartet…",
    face_downloading: "Die Gesichtsmodelle werden geladen… {pct} %",
    face_done_returning: "Fertig. Zurück zur Anwendung…",
    face_instruction_far: "Bringen Sie Ihr Gesicht in das kleine Oval",
    face_instruction_near: "Kommen Sie näher, bis Ihr Gesicht das Oval ausfüllt",
    face_instruction_light: "Halten Sie still, Ihr Gesicht im Licht des Bildschirms",
    face_no_face: "Wir sehen kein Gesicht. Schauen Sie in die Kamera.",
    face_several_faces: "Mehr als ein Gesicht ist zu sehen. Nur Sie sollten vor der Kamera sein.",
    face_too_dark: "Es ist zu dunkel. Schalten Sie ein Licht ein oder wenden Sie sich einem Fenster zu.",
    face_closer_far: "Kommen Sie etwas näher: Ihr Gesicht sollte in das kleine Oval passen.",
    face_closer_near: "Kommen Sie näher, bis Ihr Gesicht das Oval ausfüllt.",
    face_back_far: "Gehen Sie zurück, bis Ihr Gesicht in das kleine Oval passt.",
    face_back_near: "Gehen Sie etwas zurück: Ihr Gesicht sollte das Oval gerade ausfüllen.",
    face_into_oval: "Bringen Sie Ihr Gesicht in das Oval.",
    face_look_straight: "Schauen Sie direkt in die Kamera.",
    face_good: "Gut, halten Sie still…",
    face_camera_refused: "Kamerazugriff verweigert",
    face_no_camera: "Keine Kamera gefunden",
    face_camera_in_use: "Kamera wird verwendet",
    face_camera_failed: "Die Kamera ist nicht gestartet",
    face_tracking_failed: "Die Gesichtserkennung ist nicht gestartet",
    face_time_up: "Die Zeit ist abgelaufen",
    face_stopped: "Gesichtsprüfung abgebrochen",
    face_locked: "Die Anmeldung mit Gesicht ist gesperrt",
    face_not_recognised: "Nicht erkannt",
    face_expired: "Diese Prüfung ist abgelaufen",
    face_could_not_check: "Wir konnten Ihr Gesicht nicht prüfen",
    face_models_failed: "Die Gesichtsmodelle konnten nicht geladen werden ({m}). Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
    face_time_up_what: "Die Gesichtsprüfung muss innerhalb von {seconds} Sekunden abgeschlossen sein. Versuchen Sie es erneut und folgen Sie den Anweisungen über dem Bild.",
    face_stopped_what: "Sie haben die Gesichtsprüfung abgebrochen. Starten Sie sie erneut, wenn Sie bereit sind.",
    camera_unsupported: "Dieser Browser kann hier keine Kamera verwenden. Öffnen Sie die Anmeldung in einem aktuellen Browser über https.",
    camera_refused_what: "Der Kamerazugriff wurde verweigert. Erlauben Sie die Kamera für diese Website in den Einstellungen Ihres Browsers (das Kamerasymbol in der Adressleiste) und versuchen Sie es erneut.",
    camera_none_what: "Es wurde keine Kamera gefunden. Schließen Sie eine Kamera an, oder melden Sie sich auf anderem Weg an.",
    camera_in_use_what: "Die Kamera wird von einer anderen Anwendung verwendet. Schließen Sie diese (zum Beispiel einen Videoanruf) und versuchen Sie es erneut.",
    camera_failed_what: "Die Kamera konnte nicht starten: {m}",
    api_gone: "Diese Anmeldung ist abgelaufen oder wurde bereits abgeschlossen. Kehren Sie zur Anwendung zurück und melden Sie sich erneut an.",
    api_disabled: "Dieses Konto ist deaktiviert. Wenden Sie sich an Ihren Administrator.",
    api_malformed_code: "Geben Sie die 6 Ziffern ein, die Ihre Authenticator-App anzeigt.",
    api_cannot_enrol: "Sie haben keinen Authenticator eingerichtet, und bei dieser Anmeldung kann keiner eingerichtet werden. Wenden Sie sich an Ihren Administrator.",
    api_other_browser: "Diese Anmeldung wurde in einem anderen Browser begonnen. Beginnen Sie erneut in der Anwendung.",
    api_locked_browser: "Zu viele Fehlversuche: Dieser Browser ist für 15 Minuten gesperrt.",
    api_locked_authenticator: "Zu viele Fehlversuche: Dieser Authenticator ist für 15 Minuten gesperrt.",
    api_attempts_left: "{message} Noch {n} Versuche.",
    api_accept_to_finish: "Richten Sie einen Anmeldeweg ein, den diese Anwendung akzeptiert, um die Anmeldung abzuschließen.",
    api_recovery_malformed: "Geben Sie einen Wiederherstellungscode so ein, wie er angezeigt wurde: 10 Buchstaben und Ziffern, etwa 7K3QD-M9XPA.",
    api_recovery_wrong: "Dieser Wiederherstellungscode ist nicht richtig oder wurde bereits verwendet.",
    api_not_accepted_new: "Diese Anwendung akzeptiert hier nicht: {kind}.",
    api_prove_first: "Melden Sie sich zuerst mit einem Authenticator an, den Sie haben; danach können Sie einen weiteren hinzufügen.",
    api_kind_not_available: "Die Anmeldung mit {kind} ist für diese Anwendung nicht verfügbar.",
    api_kind_not_enrolled: "Für dieses Konto ist nicht eingerichtet: {kind}.",
    api_totp_start_first: "Beginnen Sie zuerst mit der Einrichtung der Authenticator-App.",
    api_totp_enrol_wrong: "Dieser Code ist nicht richtig. Prüfen Sie die Uhr Ihres Geräts und geben Sie den aktuellen Code ein.",
    api_totp_used: "Dieser Code wurde bereits verwendet. Warten Sie auf den nächsten.",
    api_totp_wrong: "Dieser Code ist nicht richtig.",
    api_face_not_available: "Die Anmeldung mit Gesicht ist für dieses Konto hier nicht verfügbar.",
    api_face_challenge_gone: "Diese Gesichtsprüfung ist abgelaufen oder wurde bereits verwendet. Starten Sie sie erneut.",
    api_face_frames: "Senden Sie zwischen 1 und {n} Bildern.",
    api_face_consent: "Die Anmeldung mit Gesicht braucht Ihre Einwilligung zur Verarbeitung Ihres Gesichts.",
    api_passkeys_not_here: "Passkeys sind hier nicht verfügbar: Die Anmeldeseite muss unter einem Domainnamen ausgeliefert werden. Melden Sie sich auf anderem Weg an.",
    api_passkeys_full: "Dieses Konto hat bereits so viele Passkeys wie erlaubt. Bitten Sie Ihren Administrator, einen zu entfernen.",
    api_passkey_not_available: "Die Anmeldung mit einem Passkey ist für diese Anwendung nicht verfügbar.",
    api_passkey_gone: "Diese Passkey-Anfrage ist abgelaufen oder wurde bereits verwendet. Versuchen Sie es erneut.",
    api_passkey_exists: "Dieser Passkey ist bereits für Ihr Konto registriert.",
    api_passkey_malformed: "Die Antwort des Passkeys konnte nicht gelesen werden. Versuchen Sie es erneut.",
    api_passkey_not_for_this: "Diese Passkey-Antwort gehört nicht zu dieser Anmeldung. Beginnen Sie erneut in der Anwendung.",
    api_passkey_not_verified: "Ihr Gerät hat Sie nicht überprüft (PIN, Fingerabdruck oder Gesicht). Versuchen Sie es erneut und bestätigen Sie auf Ihrem Gerät.",
    api_passkey_algorithm: "Dieser Passkey verwendet eine Schlüsselart, die hier nicht akzeptiert wird. Verwenden Sie einen anderen Passkey oder einen anderen Anmeldeweg.",
    api_passkey_unknown: "Dieser Passkey ist hier nicht für Ihr Konto registriert.",
    api_passkey_copied: "Dieser Passkey wurde abgelehnt: Er wurde möglicherweise kopiert. Wenden Sie sich an Ihren Administrator.",
    api_retry_authenticator: "Zu viele Fehlversuche. Versuchen Sie es in {minutes} Minuten erneut.",
    api_retry_browser: "Zu viele Fehlversuche aus diesem Browser. Versuchen Sie es in {minutes} Minuten erneut.",
    api_retry_network: "Zu viele Fehlversuche aus Ihrem Netzwerk. Versuchen Sie es in {minutes} Minuten erneut.",
    api_retry_account_seconds: "Zu viele Fehlversuche für dieses Konto. Warten Sie {seconds} Sekunden und versuchen Sie es dann erneut.",
    api_retry_account_minutes: "Zu viele Fehlversuche für dieses Konto. Warten Sie {minutes} Minuten und versuchen Sie es dann erneut.",
    api_face_inconsistent: "Die Gesichtsprüfung verlief nicht wie verlangt ({m}). Starten Sie sie erneut.",
    api_face_flat: "Wir konnten keine lebende Person vor der Kamera bestätigen. Kommen Sie näher, bis Ihr Gesicht das Oval ausfüllt.",
    api_face_no_light: "Wir konnten das Licht des Bildschirms auf Ihrem Gesicht nicht sehen. Halten Sie Ihr Gesicht nah im Licht des Bildschirms und erhöhen Sie dessen Helligkeit.",
    api_face_not_live: "Wir konnten keine lebende Person vor der Kamera bestätigen. Verwenden Sie eine echte Kamera, bei gutem Licht, ohne spiegelnde Brille.",
    api_face_different_people: "Die Bilder zeigen nicht alle dieselbe Person. Nur eine Person sollte vor der Kamera sein.",
    api_face_not_recognised: "Wir haben Ihr Gesicht nicht erkannt. Versuchen Sie es erneut, mit dem Gesicht zur Kamera und bei gutem Licht.",
    api_face_poor: "{m} Versuchen Sie es dann erneut.",
    face_hint_look_straight: "Schauen Sie direkt in die Kamera.",
    face_hint_look_moment: "Schauen Sie einen Moment direkt in die Kamera.",
    face_hint_room_dark: "Der Raum hinter Ihnen ist für die Lichtprüfung zu dunkel. Schalten Sie ein Licht ein.",
    face_hint_lost: "Wir haben Ihr Gesicht aus den Augen verloren.",
    face_hint_too_dark: "Ihr Gesicht ist zu dunkel. Wenden Sie sich einem Fenster oder einer Lampe zu.",
    face_hint_blurred: "Das Bild ist unscharf. Halten Sie still und reinigen Sie bei Bedarf die Kamera.",
    face_hint_unclear: "Ihr Gesicht ist nicht deutlich zu sehen. Entfernen Sie, was es verdeckt, und schauen Sie bei gutem Licht in die Kamera.",
    face_hint_back_far: "Gehen Sie zurück, bis Ihr Gesicht in das kleine Oval passt.",
    face_hint_closer_near: "Kommen Sie näher, bis Ihr Gesicht das Oval ausfüllt.",
    face_hint_hold_still: "Halten Sie still, Ihr Gesicht im Oval, bis die Farben enden.",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Vec<String> {
        let mut out: Vec<String> = text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned())).collect();
        out.sort();
        out
    }

    #[test]
    fn the_first_language_the_page_speaks_wins_and_english_is_the_default() {
        assert_eq!(Lang::pick(&["de-CH", "en"]), Lang::De);
        assert_eq!(Lang::pick(&["fr-FR", "DE"]), Lang::De, "by primary tag, in any case");
        assert_eq!(Lang::pick(&["fr", "en-GB", "de"]), Lang::En);
        assert_eq!(Lang::pick(&["de_AT"]), Lang::De);
        assert_eq!(Lang::pick::<&str>(&[]), Lang::En);
        assert_eq!(Lang::pick(&["", "x-klingon"]), Lang::En);
        assert_eq!(Lang::pick(&["des"]), Lang::En, "a prefix is not the tag");
    }

    #[test]
    fn an_accept_language_header_is_read_by_weight() {
        assert_eq!(Lang::from_accept_language("de-CH,de;q=0.9,en;q=0.8"), Lang::De);
        assert_eq!(Lang::from_accept_language("en;q=0.5, de;q=0.9"), Lang::De, "by weight, not order");
        assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9,en-US;q=0.8,de;q=0.7"), Lang::En);
        assert_eq!(Lang::from_accept_language("de;q=0, en"), Lang::En, "q=0 is a refusal");
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("*"), Lang::En);
        assert_eq!(Lang::from_accept_language("de;q=abc,en;q=0.1"), Lang::En, "an unreadable weight counts as 0");
    }

    #[test]
    fn every_language_has_every_text_with_the_same_parts() {
        let en = EN.entries();
        for lang in Lang::ALL {
            let texts = lang.texts().entries();
            assert_eq!(texts.len(), en.len());
            for ((name, text), (_, english)) in texts.iter().zip(&en) {
                assert!(!text.trim().is_empty(), "{lang:?} {name} is empty");
                assert_eq!(parts(text), parts(english), "{lang:?} {name}: {text}");
            }
        }
        // Translated, not copied: most texts differ from the English (names may not).
        let same = DE.entries().iter().zip(&en).filter(|((_, de), (_, en))| de == en).count();
        assert!(same <= 4, "{same} German texts are the English ones");
    }

    #[test]
    fn guidance_is_sentences_and_instructions_are_not() {
        for t in Lang::ALL.map(Lang::texts) {
            for m in [
                t.face_no_face,
                t.face_several_faces,
                t.face_too_dark,
                t.face_closer_far,
                t.face_closer_near,
                t.face_back_far,
                t.face_back_near,
                t.face_into_oval,
                t.face_look_straight,
                t.face_good,
            ] {
                assert!(m.ends_with('.') || m.ends_with('…'), "{m}");
            }
            for m in [t.face_instruction_far, t.face_instruction_near, t.face_instruction_light] {
                assert!(!m.ends_with('.'), "{m}");
            }
        }
    }

    #[test]
    fn parts_are_filled_by_name() {
        assert_eq!(fill(EN.title, &[("app", "Payroll")]), "Sign in to Payroll");
        assert_eq!(fill(DE.title, &[("app", "Payroll")]), "Bei Payroll anmelden");
        assert_eq!(fill("{a} and {a}, not {b}", &[("a", "x")]), "x and x, not {b}");
    }
}
