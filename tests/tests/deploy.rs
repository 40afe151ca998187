//! The SAM template (infra/template.yaml) against the code, so neither drifts: its routes are the
//! route table's (shared/src/routes.rs), its tables the schema's (shared/src/store/aws/schema.rs),
//! its functions the crates under functions/, and each function's policy names only tables,
//! indexes and secrets that exist.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use gatehouse::routes::ROUTES;
use gatehouse::store::aws::schema::{TABLES, TableSpec};
use serde_yaml_ng::{Mapping, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn template() -> Value {
    let path = repo().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn resources(template: &Value) -> &Mapping {
    template["Resources"].as_mapping().expect("the template has Resources")
}

/// The logical ids and properties of every resource of `kind`, in template order.
fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap().to_owned(), r))
        .collect()
}

fn resource<'a>(template: &'a Value, id: &str) -> &'a Value {
    resources(template).get(id).unwrap_or_else(|| panic!("no resource {id}"))
}

fn type_of<'a>(template: &'a Value, id: &str) -> Option<&'a str> {
    resources(template).get(id).and_then(|r| r["Type"].as_str())
}

/// An intrinsic function call, short (`!Sub x`) or long (`{"Fn::Sub": x}`): its name and argument.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => Some((tagged.tag.to_string().trim_start_matches('!').to_owned(), &tagged.value)),
        Value::Mapping(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key.starts_with("Fn::")).then(|| (key.trim_start_matches("Fn::").to_owned(), arg))
        }
        _ => None,
    }
}

/// `!Ref X` → X.
fn ref_target(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, arg) if name == "Ref" => arg.as_str(),
        _ => None,
    }
}

/// `!Sub "text"` → text (the one-argument form).
fn sub_text(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, arg) if name == "Sub" => arg.as_str(),
        _ => None,
    }
}

/// `!GetAtt X.Attr` or `!GetAtt [X, Attr]` → (X, Attr).
fn get_att(value: &Value) -> Option<(String, String)> {
    let (name, arg) = intrinsic(value)?;
    if name != "GetAtt" {
        return None;
    }
    match arg {
        Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
        Value::Sequence(parts) => Some((parts.first()?.as_str()?.to_owned(), parts.get(1)?.as_str()?.to_owned())),
        _ => None,
    }
}

/// A scalar or a list of scalars/intrinsics as a list.
fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The function crates: every directory under functions/ but the local all-in-one server, with
/// the name of the binary its Cargo.toml declares.
fn function_crates() -> BTreeMap<String, String> {
    let mut crates = BTreeMap::new();
    for entry in std::fs::read_dir(repo().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        if name == "server" || !dir.join("Cargo.toml").exists() {
            continue;
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let bin = manifest
            .split("[[bin]]")
            .nth(1)
            .and_then(|section| section.lines().find_map(|l| l.trim().strip_prefix("name = ")))
            .map(|quoted| quoted.trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("functions/{name}/Cargo.toml declares no [[bin]]"));
        crates.insert(name, bin);
    }
    crates
}

/// The repository's Makefile, which `sam build` runs for every function.
fn makefile() -> String {
    std::fs::read_to_string(repo().join("Makefile")).expect("the repository has a Makefile")
}

/// The binary whose bootstrap the Makefile's `build-<logical id>` target copies into SAM's
/// artifacts directory, after its prerequisite `lambdas` built every function.
fn makefile_binary(makefile: &str, id: &str) -> String {
    let mut lines = makefile.lines();
    let prefix = format!("build-{id}:");
    let rule = lines
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("the Makefile has no target build-{id}"));
    assert_eq!(rule.trim(), "lambdas", "build-{id} depends on the target that builds every function");
    let recipe = lines.next().unwrap_or_default();
    let binary = recipe
        .strip_prefix("\tcp target/lambda/")
        .and_then(|rest| rest.strip_suffix("/bootstrap \"$(ARTIFACTS_DIR)/bootstrap\""))
        .unwrap_or_else(|| panic!("build-{id} copies a bootstrap into $(ARTIFACTS_DIR): {recipe:?}"));
    let plain = makefile
        .lines()
        .find_map(|line| line.strip_prefix("PLAIN_FUNCTIONS :="))
        .expect("the Makefile lists the functions it builds together");
    assert!(
        plain.split_whitespace().any(|name| name == binary)
            || makefile.contains(&format!("--package gatehouse-{binary} --bin {binary}")),
        "the lambdas target builds {binary}"
    );
    binary.to_owned()
}

/// Each `AWS::Serverless::Function` by logical id, with the binary it builds.
fn template_functions(template: &Value) -> BTreeMap<String, String> {
    let makefile = makefile();
    of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, _)| {
            let binary = makefile_binary(&makefile, &id);
            (id, binary)
        })
        .collect()
}

fn global(template: &Value, key: &str) -> Value {
    template["Globals"]["Function"][key].clone()
}

fn global_env(template: &Value, var: &str) -> Value {
    template["Globals"]["Function"]["Environment"]["Variables"][var].clone()
}

#[test]
fn every_function_crate_is_one_lambda_built_by_the_makefile() {
    let template = template();
    let crates = function_crates();
    let functions = template_functions(&template);
    let binaries: BTreeSet<&String> = functions.values().collect();
    let crate_bins: BTreeSet<&String> = crates.values().collect();
    assert_eq!(binaries, crate_bins, "the template's functions are the function crates' binaries");
    assert_eq!(binaries.len(), functions.len(), "each binary is deployed once");

    let routed: BTreeSet<&str> = ROUTES.iter().map(|r| r.function.name()).collect();
    assert_eq!(routed, crates.keys().map(String::as_str).collect(), "every function crate serves a route");

    assert_eq!(global(&template, "Runtime").as_str(), Some("provided.al2023"));
    assert_eq!(global(&template, "Handler").as_str(), Some("bootstrap"));
    assert_eq!(global(&template, "Architectures"), serde_yaml_ng::from_str::<Value>("[x86_64]").unwrap());
    for (id, binary) in &functions {
        let function = resource(&template, id);
        assert_eq!(function["Metadata"]["BuildMethod"].as_str(), Some("makefile"), "{id}");
        let dir = crates.iter().find(|(_, bin)| *bin == binary).map(|(dir, _)| dir).unwrap();
        assert_eq!(dir, binary, "{id}: functions/{dir} builds the binary named after it");
        assert_eq!(
            function["Properties"]["CodeUri"].as_str(),
            Some(".."),
            "{id} builds with the repository's Makefile (relative to infra/), in one shared target directory"
        );
        for key in ["Runtime", "Handler", "Architectures"] {
            assert!(function["Properties"][key].is_null(), "{id} overrides the global {key}");
        }
        let log_group = ref_target(&function["Properties"]["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{id} logs to no log group of the template"));
        let group = resource(&template, log_group);
        assert_eq!(group["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{id}");
        assert_eq!(ref_target(&group["Properties"]["RetentionInDays"]), Some("LogRetentionDays"), "{log_group}");
    }
}

/// Method and path of each route, with the binary its integration invokes.
fn template_routes(template: &Value) -> BTreeMap<(String, String), String> {
    let functions = template_functions(template);
    let mut routes = BTreeMap::new();
    for (id, route) in of_type(template, "AWS::ApiGatewayV2::Route") {
        let properties = &route["Properties"];
        assert_eq!(ref_target(&properties["ApiId"]), Some("HttpApi"), "{id} is on the one HTTP API");
        let key = properties["RouteKey"].as_str().unwrap_or_else(|| panic!("{id} has no RouteKey"));
        let (method, path) = key.split_once(' ').unwrap_or_else(|| panic!("{id}: route key `{key}`"));
        let target = sub_text(&properties["Target"]).unwrap_or_else(|| panic!("{id}: Target is not !Sub"));
        let integration = target
            .strip_prefix("integrations/${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{id}: Target `{target}` names no integration"));
        let integration = resource(template, integration);
        assert_eq!(integration["Type"].as_str(), Some("AWS::ApiGatewayV2::Integration"), "{id}");
        assert_eq!(integration["Properties"]["IntegrationType"].as_str(), Some("AWS_PROXY"), "{id}");
        assert_eq!(integration["Properties"]["PayloadFormatVersion"].as_str(), Some("2.0"), "{id}");
        let (function, attribute) = get_att(&integration["Properties"]["IntegrationUri"])
            .unwrap_or_else(|| panic!("{id}: the integration's IntegrationUri is not !GetAtt <function>.Arn"));
        assert_eq!(attribute, "Arn");
        let binary = functions.get(&function).unwrap_or_else(|| panic!("{id} invokes {function}, not a function"));
        let previous = routes.insert((method.to_owned(), path.to_owned()), binary.clone());
        assert!(previous.is_none(), "route {key} is defined twice");
    }
    routes
}

#[test]
fn routes_are_the_route_table_and_reach_the_function_it_names() {
    let template = template();
    let deployed = template_routes(&template);
    let code: BTreeMap<(String, String), String> =
        ROUTES.iter().map(|r| ((r.method.to_owned(), r.path.to_owned()), r.function.name().to_owned())).collect();
    assert_eq!(code.len(), ROUTES.len(), "ROUTES lists a route twice");
    let missing: Vec<_> = code.keys().filter(|k| !deployed.contains_key(*k)).collect();
    let extra: Vec<_> = deployed.keys().filter(|k| !code.contains_key(*k)).collect();
    assert!(missing.is_empty(), "routes the code serves but the template lacks: {missing:?}");
    assert!(extra.is_empty(), "routes in the template that ROUTES lacks: {extra:?}");
    for (route, function) in &code {
        assert_eq!(&deployed[route], function, "{route:?} goes to the function ROUTES names");
    }
}

#[test]
fn api_gateway_may_invoke_each_function_and_nothing_else() {
    let template = template();
    let functions = template_functions(&template);
    let mut permitted = BTreeSet::new();
    for (id, permission) in of_type(&template, "AWS::Lambda::Permission") {
        let p = &permission["Properties"];
        assert_eq!(p["Action"].as_str(), Some("lambda:InvokeFunction"), "{id}");
        assert_eq!(p["Principal"].as_str(), Some("apigateway.amazonaws.com"), "{id}");
        let source = sub_text(&p["SourceArn"]).unwrap_or_else(|| panic!("{id} has no SourceArn"));
        assert!(source.contains(":${HttpApi}/"), "{id} is limited to this stack's API: {source}");
        let function = ref_target(&p["FunctionName"]).unwrap_or_else(|| panic!("{id}: FunctionName is not !Ref"));
        assert!(functions.contains_key(function), "{id} names {function}");
        assert!(permitted.insert(function.to_owned()), "{function} is permitted twice");
    }
    assert_eq!(permitted, functions.keys().cloned().collect(), "every function, once");
}

#[test]
fn tables_are_the_schema_with_retained_data() {
    let template = template();
    assert_eq!(global_env(&template, "GATEHOUSE_BACKEND").as_str(), Some("aws"));
    let prefix_value = global_env(&template, "GATEHOUSE_TABLE_PREFIX");
    let prefix = sub_text(&prefix_value).expect("GATEHOUSE_TABLE_PREFIX is !Sub");
    assert_eq!(prefix, "${AWS::StackName}-");
    let mut seen = BTreeSet::new();
    for (id, table) in of_type(&template, "AWS::DynamoDB::Table") {
        let p = &table["Properties"];
        let name = sub_text(&p["TableName"]).unwrap_or_else(|| panic!("{id}: TableName is not !Sub"));
        let suffix = name.strip_prefix(prefix).unwrap_or_else(|| panic!("{id}: `{name}` is not <prefix><suffix>"));
        let spec: &TableSpec = TABLES
            .iter()
            .find(|t| t.suffix == suffix)
            .unwrap_or_else(|| panic!("{id} ({suffix}) is not in schema::TABLES"));
        assert!(seen.insert(suffix.to_owned()), "{suffix} is defined twice");

        assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"), "{id}");
        assert_eq!(table["UpdateReplacePolicy"].as_str(), Some("Retain"), "{id}");
        assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"), "{id}");
        assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(), Some(true), "{id}");

        let key_schema = |schema: &Value| -> Vec<(String, String)> {
            as_list(schema)
                .iter()
                .map(|k| (k["AttributeName"].as_str().unwrap().to_owned(), k["KeyType"].as_str().unwrap().to_owned()))
                .collect()
        };
        assert_eq!(key_schema(&p["KeySchema"]), vec![(spec.partition_key.to_owned(), "HASH".to_owned())], "{id}");

        let mut expected_attributes: BTreeSet<String> = BTreeSet::from([spec.partition_key.to_owned()]);
        let mut expected_indexes = BTreeMap::new();
        for index in spec.indexes {
            expected_attributes.insert(index.partition_key.to_owned());
            let mut keys = vec![(index.partition_key.to_owned(), "HASH".to_owned())];
            if let Some(sort_key) = index.sort_key {
                expected_attributes.insert(sort_key.to_owned());
                keys.push((sort_key.to_owned(), "RANGE".to_owned()));
            }
            expected_indexes.insert(index.name.to_owned(), keys);
        }
        let attributes: BTreeSet<String> = as_list(&p["AttributeDefinitions"])
            .iter()
            .map(|a| {
                assert_eq!(a["AttributeType"].as_str(), Some("S"), "{id}: every key is a string");
                a["AttributeName"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(attributes, expected_attributes, "{id}: AttributeDefinitions are exactly the key attributes");

        let mut indexes = BTreeMap::new();
        for index in as_list(&p["GlobalSecondaryIndexes"]) {
            let name = index["IndexName"].as_str().unwrap().to_owned();
            assert_eq!(index["Projection"]["ProjectionType"].as_str(), Some("ALL"), "{id}/{name}");
            indexes.insert(name, key_schema(&index["KeySchema"]));
        }
        assert_eq!(indexes, expected_indexes, "{id}: global secondary indexes");

        let ttl = &p["TimeToLiveSpecification"];
        match spec.ttl_attribute {
            Some(attribute) => {
                assert_eq!(ttl["AttributeName"].as_str(), Some(attribute), "{id}: TTL attribute");
                assert_eq!(ttl["Enabled"].as_bool(), Some(true), "{id}: TTL enabled");
            }
            None => assert!(ttl.is_null(), "{id} has a TTL the schema does not"),
        }
    }
    let schema: BTreeSet<String> = TABLES.iter().map(|t| t.suffix.to_owned()).collect();
    assert_eq!(seen, schema, "the template's tables are exactly schema::TABLES");
}

/// The DynamoDB and Secrets Manager calls the stores make (shared/src/store/aws/*.rs);
/// transactional writes are authorised as PutItem/DeleteItem. Every list is a Query on an
/// index; the one Scan is the admin function's once-per-stack backfill (`store/aws/backfill.rs`).
/// The DynamoDB calls the stores make (TransactWriteItems is checked per action: PutItem,
/// DeleteItem, UpdateItem, ConditionCheckItem).
const DYNAMODB_ACTIONS: &[&str] =
    &["GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "Query", "Scan"];
const SECRETS_ACTIONS: &[&str] = &["GetSecretValue", "PutSecretValue", "CreateSecret", "DeleteSecret"];

/// What one policy resource grants access to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Table(String),
    Index(String, String),
    Secret(String),
    /// A secret the code creates at run time, by its name under the secret prefix.
    RuntimeSecret(String),
    /// The SES identity mail is sent as.
    MailIdentity(String),
}

fn policy_target(template: &Value, function: &str, resource: &Value) -> Target {
    let secret_arn = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:";
    let prefix_value = global_env(template, "GATEHOUSE_SECRET_PREFIX");
    let secret_prefix = sub_text(&prefix_value).expect("GATEHOUSE_SECRET_PREFIX is !Sub");
    assert_eq!(secret_prefix, "${AWS::StackName}/");
    if let Some((table, attribute)) = get_att(resource) {
        assert_eq!(attribute, "Arn", "{function}");
        assert_eq!(type_of(template, &table), Some("AWS::DynamoDB::Table"), "{function} names {table}");
        return Target::Table(table);
    }
    if let Some(secret) = ref_target(resource) {
        assert_eq!(type_of(template, secret), Some("AWS::SecretsManager::Secret"), "{function} names {secret}");
        return Target::Secret(secret.to_owned());
    }
    let text = sub_text(resource).unwrap_or_else(|| panic!("{function}: a resource that is no table or secret"));
    if let Some(identity) = text.strip_prefix("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/") {
        assert_eq!(identity, "${MailIdentity}", "{function}: mail is sent only as the configured identity");
        return Target::MailIdentity(identity.to_owned());
    }
    if let Some(rest) = text.strip_prefix("${").and_then(|t| t.split_once(".Arn}/index/")) {
        let (table, index) = rest;
        assert_eq!(type_of(template, table), Some("AWS::DynamoDB::Table"), "{function} names {table}");
        let indexes: Vec<&str> = as_list(&resource_properties(template, table)["GlobalSecondaryIndexes"])
            .iter()
            .filter_map(|i| i["IndexName"].as_str())
            .collect();
        assert!(indexes.contains(&index), "{function} names index {index}, which {table} lacks");
        return Target::Index(table.to_owned(), index.to_owned());
    }
    let name = text
        .strip_prefix(secret_arn)
        .and_then(|t| t.strip_prefix(secret_prefix))
        .unwrap_or_else(|| panic!("{function}: `{text}` is not a secret under the stack's secret prefix"));
    // The code's own names: the signing keys, the upstream settings, one secret per registration.
    let signing = format!("{}-*", gatehouse::oidc::signing::SECRET_NAME);
    let upstream = format!("{}-*", gatehouse::upstream::settings::SECRET_NAME);
    let client = gatehouse::store::client_secret_name(gatehouse::registration::ClientId::new_random())
        .split('/')
        .next()
        .map(|kind| format!("{kind}/*"))
        .unwrap();
    assert!(
        [&signing, &upstream, &client].contains(&&name.to_owned()),
        "{function}: secret `{name}` is none of `{signing}`, `{upstream}`, `{client}`"
    );
    Target::RuntimeSecret(name.to_owned())
}

fn resource_properties<'a>(template: &'a Value, id: &str) -> &'a Value {
    &resource(template, id)["Properties"]
}

/// Each function's grants: target → actions.
fn grants(template: &Value) -> BTreeMap<String, BTreeMap<Target, BTreeSet<String>>> {
    let mut all = BTreeMap::new();
    for (id, binary) in template_functions(template) {
        let mut granted: BTreeMap<Target, BTreeSet<String>> = BTreeMap::new();
        for policy in as_list(&resource_properties(template, &id)["Policies"]) {
            let statements = policy["Statement"].as_sequence().unwrap_or_else(|| {
                panic!("{id}: policies are inline statements (no managed or SAM template policies)")
            });
            for statement in statements {
                assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{id}");
                assert!(statement["Condition"].is_null() && statement["NotAction"].is_null(), "{id}");
                let actions: Vec<&str> = as_list(&statement["Action"]).iter().map(|a| a.as_str().unwrap()).collect();
                for resource in as_list(&statement["Resource"]) {
                    let target = policy_target(template, &id, resource);
                    for action in &actions {
                        let (service, name) = action.split_once(':').unwrap();
                        let fits = match (&target, service) {
                            (Target::Table(_) | Target::Index(..), "dynamodb") => DYNAMODB_ACTIONS.contains(&name),
                            (Target::Secret(_) | Target::RuntimeSecret(_), "secretsmanager") => {
                                SECRETS_ACTIONS.contains(&name)
                            }
                            (Target::MailIdentity(_), "ses") => name == "SendEmail",
                            _ => false,
                        };
                        assert!(fits, "{id}: {action} on {target:?} is not an action the stores make there");
                        if let Target::Index(..) = target {
                            assert_eq!(name, "Query", "{id}: an index is only queried");
                        }
                        granted.entry(target.clone()).or_default().insert(name.to_owned());
                    }
                }
            }
        }
        all.insert(binary, granted);
    }
    all
}

#[test]
fn policies_name_only_tables_indexes_and_secrets_that_exist() {
    let template = template();
    let grants = grants(&template);
    // Spot checks of least privilege, from what each function's code calls.
    let table = |t: &str| Target::Table(t.to_owned());
    let actions = |function: &str, target: &Target| -> Vec<String> {
        grants[function].get(target).map(|a| a.iter().cloned().collect()).unwrap_or_default()
    };
    assert_eq!(
        grants["discovery"].keys().cloned().collect::<Vec<_>>(),
        vec![Target::RuntimeSecret("signing-*".into())],
        "discovery only reads the signing keys"
    );
    assert_eq!(actions("discovery", &Target::RuntimeSecret("signing-*".into())), ["GetSecretValue"]);
    assert_eq!(
        actions("callback", &table("RegistrationsTable")),
        ["GetItem"],
        "callback issues nothing; it reads registrations only to notify apps when a front-channel logout ends a session"
    );
    assert_eq!(actions("userinfo", &table("EphemeralTable")), ["GetItem"], "userinfo only reads tokens");
    for reader in ["discovery", "authorize", "token", "userinfo", "signin-redirect"] {
        for (target, granted) in &grants[reader] {
            for write in ["PutSecretValue", "CreateSecret", "DeleteSecret", "Scan"] {
                assert!(!granted.contains(write), "{reader} may {write} on {target:?}");
            }
        }
    }
    let scanners: Vec<(&String, &Target)> = grants
        .iter()
        .flat_map(|(function, granted)| {
            granted.iter().filter(|(_, a)| a.contains("Scan")).map(move |(t, _)| (function, t))
        })
        .collect();
    let backfilled = ["ContactsTable", "QueriesTable", "RegistrationsTable"].map(table);
    assert!(
        scanners.iter().all(|(function, target)| function.as_str() == "admin" && backfilled.contains(target)),
        "only the admin function scans, and only the tables its backfill reads: {scanners:?}"
    );
    let senders: Vec<&String> = grants
        .iter()
        .filter(|(_, granted)| granted.keys().any(|t| matches!(t, Target::MailIdentity(_))))
        .map(|(function, _)| function)
        .collect();
    assert_eq!(senders, ["signin-redirect"], "only the forgot forms send mail");
    let signin = resource_properties(&template, "SigninRedirectFunction");
    assert_eq!(ref_target(&signin["Environment"]["Variables"]["GATEHOUSE_MAIL_FROM"]), Some("MailFrom"));
    let admin_contacts = actions("admin", &table("ContactsTable"));
    for needed in ["BatchGetItem", "ConditionCheckItem", "GetItem", "PutItem", "DeleteItem"] {
        assert!(admin_contacts.iter().any(|a| a == needed), "the contact search and its backfill need {needed}");
    }
    for (target, granted) in &grants["admin"] {
        if let Target::RuntimeSecret(name) = target {
            assert!(granted.contains("CreateSecret") && granted.contains("PutSecretValue"), "admin writes {name}");
        }
    }
}

#[test]
fn the_first_administrator_gets_a_generated_password_only_the_sign_in_function_reads() {
    let template = template();
    let (id, secret) = of_type(&template, "AWS::SecretsManager::Secret")
        .into_iter()
        .find(|(id, _)| id == "AdminPasswordSecret")
        .expect("the template defines the administrator password secret");
    let generate = &secret["Properties"]["GenerateSecretString"];
    let length = generate["PasswordLength"].as_u64().expect("a generated password");
    assert!(length as usize >= gatehouse::password::MIN_LENGTH, "long enough for the password rules");
    let name = sub_text(&secret["Properties"]["Name"]).expect("the secret's Name is !Sub");
    let relative = name.strip_prefix("${AWS::StackName}/").expect("the secret is under the secret prefix");

    let var = gatehouse::lambda::ADMIN_PASSWORD_SECRET_VAR;
    for (function_id, binary) in template_functions(&template) {
        let value = &resource_properties(&template, &function_id)["Environment"]["Variables"][var];
        if binary == "signin-redirect" {
            assert_eq!(value.as_str(), Some(relative), "{var} names the secret relative to the prefix");
        } else {
            assert!(value.is_null(), "{function_id} must not create the administrator");
        }
    }
    let grants = grants(&template);
    let readers: Vec<&String> =
        grants.iter().filter(|(_, g)| g.contains_key(&Target::Secret(id.clone()))).map(|(f, _)| f).collect();
    assert_eq!(readers, ["signin-redirect"]);
    assert_eq!(grants["signin-redirect"][&Target::Secret(id.clone())].iter().collect::<Vec<_>>(), ["GetSecretValue"]);
}

#[test]
fn environment_parameters_and_outputs() {
    let template = template();
    let variables = template["Globals"]["Function"]["Environment"]["Variables"].as_mapping().unwrap();
    let config = include_str!("../../shared/src/config.rs");
    for (name, _) in variables {
        let name = name.as_str().unwrap();
        assert!(
            name == "RUST_LOG" || config.contains(&format!("\"{name}\"")),
            "{name} is not a variable shared/src/config.rs reads"
        );
    }
    for (name, value) in [("GATEHOUSE_ORG_NAME", "OrganizationName"), ("GATEHOUSE_ADMIN_USERNAME", "AdminUsername")] {
        assert_eq!(ref_target(&global_env(&template, name)), Some(value), "{name}");
    }
    for parameter in [
        "IssuerUrl",
        "OrganizationName",
        "AdminUsername",
        "CustomDomainName",
        "CertificateArn",
        "LogRetentionDays",
        "MailFrom",
        "MailIdentity",
    ] {
        assert!(!template["Parameters"][parameter].is_null(), "parameter {parameter}");
    }
    for output in ["IssuerUrl", "AdminUrl", "ApiEndpoint"] {
        assert!(!template["Outputs"][output]["Value"].is_null(), "output {output}");
    }
    for id in ["CustomDomain", "CustomDomainMapping"] {
        assert_eq!(resource(&template, id)["Condition"].as_str(), Some("HasCustomDomain"), "{id}");
    }
    let samconfig = std::fs::read_to_string(repo().join("samconfig.toml")).unwrap();
    assert!(samconfig.contains("template_file = \"infra/template.yaml\""), "samconfig.toml names the template");
    // A copy per function would compile the workspace once per function (and copy target/).
    assert!(samconfig.contains("build_in_source = true"), "samconfig.toml builds in the repository");
}

/// The secret the stack generates as `<stack>/<name>` (the name the code reads, under the
/// secret prefix), long enough to seal with; its resource id and who may do what with it.
fn generated_key(name: &str) -> (String, BTreeMap<String, Vec<String>>) {
    let template = template();
    let (id, secret) = of_type(&template, "AWS::SecretsManager::Secret")
        .into_iter()
        .find(|(_, s)| sub_text(&s["Properties"]["Name"]) == Some(&format!("${{AWS::StackName}}/{name}")))
        .unwrap_or_else(|| panic!("the template defines the secret {name}"));
    let length = secret["Properties"]["GenerateSecretString"]["PasswordLength"].as_u64().expect("a generated key");
    assert!(length as usize >= gatehouse::seal::MIN_KEY_CHARS, "{name} is long enough to seal with");
    let target = Target::Secret(id.clone());
    let readers = grants(&template)
        .into_iter()
        .filter_map(|(function, granted)| Some((function, granted.get(&target)?.iter().cloned().collect())))
        .collect();
    (id, readers)
}

#[test]
fn the_mfa_sealing_key_is_generated_and_only_the_sign_in_function_reads_it() {
    let (_, readers) = generated_key(gatehouse::services::mfa::KEY_SECRET_NAME);
    let expected = BTreeMap::from([("signin-redirect".to_owned(), vec!["GetSecretValue".to_owned()])]);
    assert_eq!(readers, expected, "only sign-in sets up and checks second factors");
}

#[test]
fn the_token_key_is_generated_and_read_by_the_functions_that_issue_or_accept_sealed_tokens() {
    let (_, readers) = generated_key(gatehouse::services::sealed_tokens::KEY_SECRET_NAME);
    // authorize issues access tokens in implicit and hybrid responses; the admin API takes them.
    let expected = ["admin", "authorize", "token", "userinfo"]
        .map(|function| (function.to_owned(), vec!["GetSecretValue".to_owned()]));
    assert_eq!(readers, BTreeMap::from(expected), "each only reads it: the stack made it");
}
