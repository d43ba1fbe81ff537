//! The CloudFormation template an admin deploys in their AWS account to put Biopass in
//! front of a Cognito user pool: the Define, Create and Verify auth challenge triggers
//! (Node.js, inline code), the application's client secret in AWS Secrets Manager, their
//! least-privilege IAM role, the permissions for Cognito to invoke them, and outputs that
//! say how to attach them to a user pool.
//!
//! The template is assembled from `cognito/template.yaml.in` and the handlers in
//! `cognito/triggers/`, embedded at compile time, so the code the handler unit tests
//! exercise is the code that is deployed: byte for byte, except that the line by which
//! Create and Verify load `aws.js` (what they share) is replaced with that file's code,
//! wrapped as the module it is.

/// The template skeleton; `{{...}}` marks what [`template`] fills in.
const SKELETON: &str = include_str!("../../cognito/template.yaml.in");

/// The three triggers, as deployed (each becomes `index.js` of its function).
pub const DEFINE_JS: &str = include_str!("../../cognito/triggers/define.js");
pub const CREATE_JS: &str = include_str!("../../cognito/triggers/create.js");
pub const VERIFY_JS: &str = include_str!("../../cognito/triggers/verify.js");
/// What Create and Verify share (signed AWS calls, the client secret), inlined into each.
pub const AWS_JS: &str = include_str!("../../cognito/triggers/aws.js");

/// The line by which a trigger loads `aws.js` as a file (as the unit tests run it).
const AWS_REQUIRE: &str = "const aws = require('./aws.js');";

/// A trigger as deployed: one file, with `aws.js` in place of the line that loads it.
pub fn deployed(code: &str) -> String {
    let module = format!("const aws = (() => {{\nconst module = {{ exports: {{}} }};\n{}\nreturn module.exports;\n}})();", AWS_JS.trim_end());
    code.replace(AWS_REQUIRE, &module)
}

/// CloudFormation accepts at most this many bytes of template body in a `CreateStack` or
/// `UpdateStack` request (larger templates must go through S3); the generated template
/// stays under it so `aws cloudformation create-stack --template-body file://...` works.
pub const MAX_TEMPLATE_BODY: usize = 51_200;

/// Indentation of the handler code inside its `ZipFile: |` block.
const CODE_INDENT: &str = "          ";

/// The template for one application, with `ClientId` and `Issuer` defaults filled in. The
/// client secret is a `NoEcho` parameter without a default: it never appears here.
pub fn template(client_id: &str, issuer: &str) -> String {
    SKELETON
        .replace("{{CLIENT_ID}}", &single_quoted(client_id))
        .replace("{{ISSUER}}", &single_quoted(issuer))
        .replace("{{DEFINE_JS}}\n", &block(DEFINE_JS))
        .replace("{{CREATE_JS}}\n", &block(&deployed(CREATE_JS)))
        .replace("{{VERIFY_JS}}\n", &block(&deployed(VERIFY_JS)))
}

/// The inside of a YAML single-quoted scalar (the skeleton supplies the quotes).
fn single_quoted(s: &str) -> String {
    s.replace('\'', "''").replace(['\n', '\r'], " ")
}

/// Code as the body of a YAML literal block scalar: every line indented, blank lines kept
/// empty, ending with one newline.
fn block(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.lines().count() * CODE_INDENT.len());
    for line in code.trim_end().lines() {
        if !line.is_empty() {
            out.push_str(CODE_INDENT);
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://biopass.example.com";
    const CLIENT: &str = "AbCdEfGhIjKlMnOpQrStUv";

    fn indent(line: &str) -> usize {
        line.len() - line.trim_start_matches(' ').len()
    }

    /// A mapping walk over block-style YAML by indentation: the lines of `path`'s block and
    /// the scalar after its key. Enough to check the template's structure.
    fn lookup<'a>(doc: &'a str, path: &[&str]) -> Option<(&'a str, Vec<&'a str>)> {
        let lines: Vec<&str> = doc.lines().collect();
        let (mut start, mut end, mut level) = (0, lines.len(), 0);
        let mut value = "";
        for key in path {
            let prefix = format!("{key}:");
            let at = (start..end).find(|&i| {
                let l = lines[i];
                indent(l) == level && l.trim_start().starts_with(&prefix)
            })?;
            value = lines[at].trim_start()[prefix.len()..].trim();
            let stop = (at + 1..end).find(|&i| !lines[i].trim().is_empty() && indent(lines[i]) <= level).unwrap_or(end);
            start = at + 1;
            end = stop;
            level = lines[start..end].iter().find(|l| !l.trim().is_empty()).map_or(level + 2, |l| indent(l));
        }
        Some((value, lines[start..end].to_vec()))
    }

    fn scalar<'a>(doc: &'a str, path: &[&str]) -> &'a str {
        lookup(doc, path).map(|(v, _)| v).unwrap_or_else(|| panic!("{path:?} is missing"))
    }

    /// The code of a function's `ZipFile: |` block, un-indented.
    fn zip_file(doc: &str, function: &str) -> String {
        let (marker, lines) = lookup(doc, &["Resources", function, "Properties", "Code", "ZipFile"]).unwrap();
        assert_eq!(marker, "|");
        let mut code: String = lines.iter().map(|l| format!("{}\n", l.strip_prefix(CODE_INDENT).unwrap_or(l))).collect();
        while code.ends_with("\n\n") {
            code.pop();
        }
        code
    }

    #[test]
    fn the_create_trigger_refuses_with_exactly_the_typed_codes() {
        let start = CREATE_JS.find("const REFUSALS = {").unwrap();
        let block = &CREATE_JS[start..start + CREATE_JS[start..].find("};").unwrap()];
        let keys: Vec<&str> = block.lines().filter_map(|l| l.trim().strip_suffix(':')).collect();
        let codes: Vec<&str> = biopass_proto::admin::PoolRefusal::ALL.iter().map(|r| r.code()).collect();
        let (mut a, mut b) = (keys.clone(), codes.clone());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "REFUSALS in cognito/triggers/create.js");
        for code in codes {
            assert!(CREATE_JS.contains(&format!("'{code}'")), "create.js reports {code}");
        }
    }

    #[test]
    fn parameters_with_defaults_and_a_hidden_secret() {
        let t = template(CLIENT, ISSUER);
        for p in ["ClientId", "Issuer", "ClientSecret", "UserPoolId"] {
            assert_eq!(scalar(&t, &["Parameters", p, "Type"]), "String", "{p}");
        }
        assert_eq!(scalar(&t, &["Parameters", "ClientId", "Default"]), format!("'{CLIENT}'"));
        assert_eq!(scalar(&t, &["Parameters", "Issuer", "Default"]), format!("'{ISSUER}'"));
        assert_eq!(scalar(&t, &["Parameters", "ClientSecret", "NoEcho"]), "true");
        assert!(lookup(&t, &["Parameters", "ClientSecret", "Default"]).is_none(), "the secret has no default");
        assert!(lookup(&t, &["Parameters", "Region"]).is_none(), "the stack's own region, not a parameter that can disagree");
        assert!(lookup(&t, &["Parameters", "UserPoolId", "Default"]).is_none(), "the admin names the pool");
        assert!(!t.contains("{{"), "every placeholder is filled");
    }

    #[test]
    fn quotes_in_defaults_cannot_break_out() {
        let t = template(CLIENT, "https://x.example/it's");
        assert_eq!(scalar(&t, &["Parameters", "Issuer", "Default"]), "'https://x.example/it''s'");
    }

    #[test]
    fn three_functions_with_the_handlers_verbatim() {
        let t = template(CLIENT, ISSUER);
        for (name, code) in [("DefineAuthChallenge", DEFINE_JS), ("CreateAuthChallenge", CREATE_JS), ("VerifyAuthChallengeResponse", VERIFY_JS)] {
            assert_eq!(scalar(&t, &["Resources", name, "Type"]), "AWS::Lambda::Function");
            assert_eq!(scalar(&t, &["Resources", name, "Properties", "Runtime"]), "nodejs24.x");
            assert_eq!(scalar(&t, &["Resources", name, "Properties", "Handler"]), "index.handler");
            assert_eq!(scalar(&t, &["Resources", name, "Properties", "Timeout"]), "5");
            assert_eq!(zip_file(&t, name), format!("{}\n", deployed(code).trim_end()), "{name} is embedded verbatim");
            assert!(!zip_file(&t, name).contains("require('./"), "{name} loads no file the function does not have");
            assert!(!code.contains('\t') && !code.contains('\r'), "{name}: tabs or CR would change the YAML block");
            let permission = format!("{name}Invoke");
            assert_eq!(scalar(&t, &["Resources", &permission, "Type"]), "AWS::Lambda::Permission");
            assert_eq!(scalar(&t, &["Resources", &permission, "Properties", "Principal"]), "cognito-idp.amazonaws.com");
            assert_eq!(scalar(&t, &["Outputs", &format!("{name}Arn"), "Value"]), format!("!GetAtt {name}.Arn"));
        }
        for name in ["CreateAuthChallenge", "VerifyAuthChallengeResponse"] {
            for (var, param) in [("ClientId", "ClientId"), ("Issuer", "Issuer"), ("ClientSecretArn", "ClientSecretValue")] {
                let v = scalar(&t, &["Resources", name, "Properties", "Environment", "Variables", var]);
                assert_eq!(v, format!("!Ref {param}"));
            }
            assert!(deployed(if name == "CreateAuthChallenge" { CREATE_JS } else { VERIFY_JS }).contains("aws.clientSecret("));
        }
        for name in ["DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"] {
            assert_eq!(scalar(&t, &["Resources", name, "Properties", "Environment", "Variables", "UserPoolId"]), "!Ref UserPoolId");
        }
    }

    #[test]
    fn only_the_named_user_pool_may_invoke_or_be_read() {
        let t = template(CLIENT, ISSUER);
        let pool_arn = "'arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${UserPoolId}'";
        for name in ["DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"] {
            assert_eq!(scalar(&t, &["Resources", &format!("{name}Invoke"), "Properties", "SourceArn"]), format!("!Sub {pool_arn}"));
        }
        let (_, policy) = lookup(&t, &["Resources", "TriggerRole", "Properties", "Policies"]).unwrap();
        assert!(policy.iter().any(|l| l.trim() == format!("Resource: !Sub {pool_arn}")), "Describe* is scoped to the pool");
        assert!(!t.contains("userpool/*"), "no permission covers every pool of the account");
    }

    /// The actions a policy document's lines allow.
    fn actions<'a>(policy: &[&'a str]) -> Vec<&'a str> {
        policy
            .iter()
            .map(|l| l.trim().trim_start_matches("- ").trim_start_matches("Action: "))
            .filter(|l| l.contains(':') && !l.contains(' ') && !l.starts_with('!') && !l.ends_with(':'))
            .collect()
    }

    #[test]
    fn the_role_allows_its_logs_its_secret_and_reading_its_pool_only() {
        let t = template(CLIENT, ISSUER);
        let (_, policy) = lookup(&t, &["Resources", "TriggerRole", "Properties", "Policies"]).unwrap();
        assert_eq!(actions(&policy), ["cognito-idp:DescribeUserPool", "cognito-idp:DescribeUserPoolClient", "secretsmanager:GetSecretValue"]);
        assert!(policy.iter().any(|l| l.trim() == "Resource: !Ref ClientSecretValue"), "only its own secret");
        let (_, logs) = lookup(&t, &["Resources", "TriggerLogsPolicy", "Properties"]).unwrap();
        assert_eq!(actions(&logs), ["logs:CreateLogStream", "logs:PutLogEvents"]);
        assert!(logs.iter().any(|l| l.trim() == "- !Ref TriggerRole"));
        for group in ["DefineAuthChallengeLogs", "CreateAuthChallengeLogs", "VerifyAuthChallengeResponseLogs"] {
            assert!(logs.iter().any(|l| l.trim() == format!("- !GetAtt {group}.Arn")), "{group}");
        }
        for lines in [&policy, &logs] {
            assert!(!lines.iter().any(|l| l.contains("Resource: '*'") || l.contains("Resource: \"*\"")));
        }
    }

    #[test]
    fn the_secret_lives_in_secrets_manager_only() {
        let t = template(CLIENT, ISSUER);
        assert_eq!(scalar(&t, &["Resources", "ClientSecretValue", "Type"]), "AWS::SecretsManager::Secret");
        assert_eq!(scalar(&t, &["Resources", "ClientSecretValue", "Properties", "SecretString"]), "!Ref ClientSecret");
        assert_eq!(t.matches("!Ref ClientSecret\n").count(), 1, "the parameter goes into the secret and nowhere else");
    }

    #[test]
    fn no_name_depends_on_the_stack_name_and_the_logs_outlive_the_stack() {
        let t = template(CLIENT, ISSUER);
        // Generated names fit AWS's 64-character limits whatever the stack is called, and a
        // stack created again under the same name gets new ones (no clash with kept logs).
        assert!(!t.contains("${AWS::StackName}"));
        assert!(lookup(&t, &["Resources", "TriggerRole", "Properties", "RoleName"]).is_none());
        for function in ["DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"] {
            assert!(lookup(&t, &["Resources", function, "Properties", "FunctionName"]).is_none(), "{function}");
        }
        for (group, function) in [
            ("DefineAuthChallengeLogs", "DefineAuthChallenge"),
            ("CreateAuthChallengeLogs", "CreateAuthChallenge"),
            ("VerifyAuthChallengeResponseLogs", "VerifyAuthChallengeResponse"),
        ] {
            assert_eq!(scalar(&t, &["Resources", group, "DeletionPolicy"]), "Retain");
            assert_eq!(scalar(&t, &["Resources", group, "UpdateReplacePolicy"]), "Retain");
            assert_eq!(scalar(&t, &["Resources", group, "Properties", "LogGroupName"]), format!("!Sub '/aws/lambda/${{{function}}}'"));
        }
    }

    #[test]
    fn fits_a_create_stack_request() {
        let t = template(&"x".repeat(64), &format!("https://{}.example.com", "a".repeat(200)));
        assert!(t.len() < MAX_TEMPLATE_BODY, "template is {} bytes", t.len());
    }

    #[test]
    fn attach_steps_are_in_the_outputs() {
        let t = template(CLIENT, ISSUER);
        let (_, steps) = lookup(&t, &["Outputs", "AttachToUserPool"]).unwrap();
        let steps = steps.join("\n");
        for needle in [
            "Define auth challenge",
            "Create auth challenge",
            "Verify auth challenge response",
            "ALLOW_CUSTOM_AUTH and ALLOW_REFRESH_TOKEN_AUTH only",
            "15 minutes",
            "redirect_uri",
        ] {
            assert!(steps.contains(needle), "{needle}");
        }
        assert!(!steps.contains("ALLOW_CUSTOM_AUTH and ALLOW_USER_SRP_AUTH"), "the guide never asks for a password-only flow");
    }

    /// `scripts/test-cognito.sh` sets `BIOPASS_COGNITO_TEMPLATE` to lint the template with
    /// cfn-lint; without it this only checks that the template is written whole.
    #[test]
    fn writes_the_template_for_cfn_lint() {
        let t = template(CLIENT, ISSUER);
        let path = std::env::var_os("BIOPASS_COGNITO_TEMPLATE")
            .map_or_else(|| std::env::temp_dir().join(format!("biopass-cognito-{}.yaml", std::process::id())), Into::into);
        std::fs::write(&path, &t).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), t);
        if std::env::var_os("BIOPASS_COGNITO_TEMPLATE").is_none() {
            std::fs::remove_file(&path).unwrap();
        }
    }
}
