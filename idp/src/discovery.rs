//! OpenID Connect Discovery 1.0 metadata for an issuer.

use biopass_proto::oauth::ProviderMetadata;

/// The endpoint paths, relative to the issuer.
pub mod paths {
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const PAR: &str = "/par";
    pub const USERINFO: &str = "/userinfo";
    pub const JWKS: &str = "/.well-known/jwks.json";
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
}

/// Client authentication methods, as advertised and accepted.
pub const AUTH_METHODS: [&str; 5] = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"];

/// Algorithms accepted for client assertions.
pub const ASSERTION_ALGS: [&str; 4] = ["HS256", "ES256", "RS256", "EdDSA"];

/// The metadata document for `issuer` (no trailing slash).
pub fn metadata(issuer: &str) -> ProviderMetadata {
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    ProviderMetadata {
        issuer: issuer.to_owned(),
        authorization_endpoint: format!("{issuer}{}", paths::AUTHORIZE),
        token_endpoint: format!("{issuer}{}", paths::TOKEN),
        userinfo_endpoint: format!("{issuer}{}", paths::USERINFO),
        jwks_uri: format!("{issuer}{}", paths::JWKS),
        pushed_authorization_request_endpoint: format!("{issuer}{}", paths::PAR),
        require_pushed_authorization_requests: false,
        scopes_supported: s(&["openid", "profile"]),
        response_types_supported: s(&["code"]),
        response_modes_supported: s(&["query"]),
        grant_types_supported: s(&["authorization_code"]),
        subject_types_supported: s(&["public"]),
        id_token_signing_alg_values_supported: s(&["ES256", "RS256"]),
        token_endpoint_auth_methods_supported: s(&AUTH_METHODS),
        token_endpoint_auth_signing_alg_values_supported: s(&ASSERTION_ALGS),
        code_challenge_methods_supported: s(&["S256"]),
        claims_supported: s(&["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "preferred_username"]),
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoints_hang_off_the_issuer() {
        let m = super::metadata("https://id.example.com");
        assert_eq!(m.token_endpoint, "https://id.example.com/token");
        assert_eq!(m.jwks_uri, "https://id.example.com/.well-known/jwks.json");
        assert!(m.token_endpoint_auth_methods_supported.contains(&"private_key_jwt".to_owned()));
        assert_eq!(m.code_challenge_methods_supported, vec!["S256".to_owned()]);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["request_uri_parameter_supported"], false, "published: omitted would mean true");
        assert_eq!(json["request_parameter_supported"], false);
    }
}
