//! The admin JSON API over HTTP, on both storage backends.

use gatehouse_tests::{Client, TestServer, both_backends};
use serde_json::{Value, json};

async fn create_queries(admin: &Client) {
    let (status, body) = admin
        .post(
            "/admin/api/queries",
            &json!({"path": "$/SSO/ProfileData", "kind": "profile", "parameter": "username", "columns": [
                {"source": "first_name", "alias": "given_name"},
                {"source": "last_name", "alias": "family_name"},
                {"source": "email", "alias": "email"},
                {"source": "member_type", "alias": "member_type"},
                {"source": "status", "alias": "AccessRestrictionCode"},
                {"source": "attributes.city", "alias": "address.locality"}
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = admin
        .post(
            "/admin/api/queries",
            &json!({"path": "$/SSO/RoleData", "kind": "role", "columns": [{"source": "roles", "alias": "Role"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

fn registration() -> Value {
    json!({
        "name": "Example App Solutions",
        "redirect_urls": ["https://thirdparty.example.org/sso/callback", "http://127.0.0.1:9000/cb"],
        "profile_query": "$/SSO/ProfileData",
        "id_token_fields": ["given_name", "member_type", "sub", "nope"],
        "role_query": "$/SSO/RoleData",
        "role_format": "array",
        "no_access_mapping": "S\nX|https://example.org/\nI|https://example.org/reactivate",
        "grant_types": ["implicit"]
    })
}

async fn registration_count(admin: &Client) -> usize {
    let (status, body) = admin.get("/admin/api/registrations").await;
    assert_eq!(status, 200);
    body["registrations"].as_array().unwrap().len()
}

both_backends!(registration_crud_and_regeneration, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    create_queries(&admin).await;
    let (status, created) = admin.post("/admin/api/registrations", &registration()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["client_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "client id is a UUID");
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let key = created["jwt_signing_key"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert!(secret.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(key.len(), 64);
    assert_eq!(created["grant_types"], json!(["authorization_code", "implicit"]));
    assert_eq!(created["role_format"], "array");
    let ignored: Vec<&str> =
        created["ignored_id_token_fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(ignored, ["sub", "nope"], "reserved and unknown fields are reported as ignored");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let (status, read) = admin.get(&format!("/admin/api/registrations/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(read, created);
    assert_eq!(registration_count(&admin).await, 1);

    let mut changed = registration();
    changed["name"] = json!("Renamed App");
    changed["role_format"] = json!("csv");
    changed["grant_types"] = json!([]);
    let (status, updated) = admin.put(&format!("/admin/api/registrations/{id}"), &changed).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Renamed App");
    assert_eq!(updated["grant_types"], json!(["authorization_code"]), "authorization code cannot be turned off");
    assert_eq!(updated["client_id"], id.as_str(), "client id never changes");
    assert_eq!(updated["client_secret"], secret.as_str(), "editing keeps the credentials");

    let (status, regenerated) =
        admin.post(&format!("/admin/api/registrations/{id}/regenerate-secret"), &json!({})).await;
    assert_eq!(status, 200);
    assert_ne!(regenerated["client_secret"], secret.as_str());
    assert_eq!(regenerated["jwt_signing_key"], key.as_str(), "only the secret changed");
    let (status, rekeyed) =
        admin.post(&format!("/admin/api/registrations/{id}/regenerate-signing-key"), &json!({})).await;
    assert_eq!(status, 200);
    assert_ne!(rekeyed["jwt_signing_key"], key.as_str());
    assert_eq!(rekeyed["client_secret"], regenerated["client_secret"]);

    let (status, _) = admin.delete(&format!("/admin/api/registrations/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = admin.get(&format!("/admin/api/registrations/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(registration_count(&admin).await, 0);
    let client_id = gatehouse::registration::ClientId::parse(&id).unwrap();
    let client_secret_name = gatehouse::store::client_secret_name;
    assert!(
        server.state.stores.secrets.get(&client_secret_name(client_id)).await.unwrap().is_none(),
        "deleting removes the secrets too"
    );
    let (status, _) = admin.delete(&format!("/admin/api/registrations/{id}")).await;
    assert_eq!(status, 404);
});

both_backends!(the_hs512_key_choice_defaults_round_trips_and_hides_the_unused_key, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    create_queries(&admin).await;
    let mut body = registration();
    body["grant_types"] = json!([]);
    let (status, created) = admin.post("/admin/api/registrations", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id_token_hmac_key"], "jwt_signing_key", "the API default is the seed's separate key");
    let key = created["jwt_signing_key"].as_str().unwrap().to_owned();
    let url = format!("/admin/api/registrations/{}", created["client_id"].as_str().unwrap());

    body["id_token_hmac_key"] = json!("client_secret");
    let (status, updated) = admin.put(&url, &body).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["id_token_hmac_key"], "client_secret");
    assert_eq!(updated["jwt_signing_key"], Value::Null, "the unused separate key is hidden");
    let (_, read) = admin.get(&url).await;
    assert_eq!(read, updated, "stored and read back");

    body["grant_types"] = json!(["password_public"]);
    let (status, error) = admin.put(&url, &body).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("id_token_hmac_key")), "{error}");
    body["id_token_hmac_key"] = json!("the_password");
    assert_eq!(admin.put(&url, &body).await.0, 400, "not a choice");

    body["id_token_hmac_key"] = Value::Null;
    body["grant_types"] = json!([]);
    let (status, reverted) = admin.put(&url, &body).await;
    assert_eq!(status, 200, "{reverted}");
    assert_eq!(reverted["id_token_hmac_key"], "jwt_signing_key", "leaving it out means the default");
    assert_eq!(reverted["jwt_signing_key"], key.as_str(), "the separate key was kept all along");
});

both_backends!(registration_validation_refuses_bad_input_and_stores_nothing, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    create_queries(&admin).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!(""), "name"),
        ("redirect_urls", json!([]), "redirect_urls"),
        ("redirect_urls", json!(["http://thirdparty.example.org/cb"]), "redirect_urls[0]"),
        ("redirect_urls", json!(["https://a.example/cb#x"]), "redirect_urls[0]"),
        ("redirect_urls", json!(["/relative"]), "redirect_urls[0]"),
        ("redirect_urls", json!(["javascript:alert(1)"]), "redirect_urls[0]"),
        ("profile_query", json!("SSO/ProfileData"), "profile_query"),
        ("profile_query", json!("$/SSO/Missing"), "profile_query"),
        ("profile_query", json!("$/SSO/RoleData"), "profile_query"),
        ("role_query", json!("$/SSO/ProfileData"), "role_query"),
        ("role_format", json!(null), "role_format"),
        ("no_access_mapping", json!("S\nI|http://example.org/"), "no_access_mapping"),
        ("no_access_mapping", json!("S\nI|https://a.example/|b"), "no_access_mapping"),
        // registration() enables Implicit, whose apps hold no client secret.
        ("id_token_hmac_key", json!("client_secret"), "id_token_hmac_key"),
    ];
    for (field, value, expected_field) in cases {
        let mut body = registration();
        body[field] = value.clone();
        let (status, error) = admin.post("/admin/api/registrations", &body).await;
        assert_eq!(status, 422, "{field}={value}: {error}");
        assert_eq!(error["field"], expected_field, "{field}={value}: {error}");
        assert!(!error["error"].as_str().unwrap().is_empty());
    }
    let (status, error) = admin.post("/admin/api/registrations", &json!({"name": "x", "client_secret": "mine"})).await;
    assert_eq!(status, 400, "credentials cannot be set: {error}");
    let (_, error) = admin.post("/admin/api/registrations", &json!({"name": "x", "redirect_urls": ["https://a.example/"], "profile_query": "$/SSO/ProfileData", "role_query": "$/SSO/RoleData", "role_format": "csv", "no_access_mapping": "A\n\nB|https://x.example/|y"})).await;
    assert!(error["error"].as_str().unwrap().contains("line 3"), "mapping errors name the line: {error}");
    assert_eq!(registration_count(&admin).await, 0, "nothing was stored");

    let (_, created) = admin.post("/admin/api/registrations", &registration()).await;
    let id = created["client_id"].as_str().unwrap();
    let mut bad = registration();
    bad["redirect_urls"] = json!(["ftp://x.example/"]);
    let (status, _) = admin.put(&format!("/admin/api/registrations/{id}"), &bad).await;
    assert_eq!(status, 422);
    let (_, after) = admin.get(&format!("/admin/api/registrations/{id}")).await;
    assert_eq!(after, created, "a refused update changes nothing");
    let (status, _) = admin.put("/admin/api/registrations/not-a-uuid", &registration()).await;
    assert_eq!(status, 404);
});

both_backends!(contacts_crud_search_and_passwords, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let bob = json!({
        "username": "bsmith", "email": "bsmith@example.org", "first_name": "Bob", "last_name": "Smith",
        "is_staff": false, "is_sysadmin": false, "status": "A", "member_type": "REG",
        "roles": ["Volunteer", "BoardOfDirectors"], "attributes": {"city": "Leeds"}, "external_id": null,
        "password": "bob-password-123"
    });
    let (status, created) = admin.post("/admin/api/contacts", &bob).await;
    assert_eq!(status, 201, "{created}");
    assert!(created.get("password").is_none() && created.get("password_hash").is_none(), "passwords are write-only");
    assert_eq!(created["has_password"], true);
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, error) = admin.post("/admin/api/contacts", &json!({"username": "BSmith"})).await;
    assert_eq!(status, 409, "usernames are unique in any case: {error}");
    let (status, error) = admin.post("/admin/api/contacts", &json!({"username": "x", "email": "nope"})).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("email")));
    let (status, error) = admin.post("/admin/api/contacts", &json!({"username": "x", "password": "short"})).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("password")));

    let (_, found) = admin.get("/admin/api/contacts?search=SMITH").await;
    assert_eq!(found["contacts"].as_array().unwrap().len(), 1);
    let (_, all) = admin.get("/admin/api/contacts").await;
    assert_eq!(all["contacts"].as_array().unwrap().len(), 2, "bob and the administrator");
    assert!(all["next_cursor"].is_null(), "one page holds them: {all}");
    // A page at a time: the cursor of one page starts the next, each contact once.
    let (_, first) = admin.get("/admin/api/contacts?limit=1").await;
    let cursor = first["next_cursor"].as_str().expect("more to come");
    let after: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    let (_, second) = admin.get(&format!("/admin/api/contacts?limit=1&after={after}")).await;
    let ids = [&first, &second].map(|page| page["contacts"][0]["id"].as_str().unwrap().to_owned());
    assert_ne!(ids[0], ids[1]);
    assert_eq!(second["contacts"].as_array().unwrap().len(), 1);
    let (status, error) = admin.get("/admin/api/contacts?after=not-a-cursor").await;
    assert_eq!((status, error["field"].as_str()), (422, Some("after")), "{error}");

    let mut changed = bob.clone();
    changed["first_name"] = json!("Robert");
    changed.as_object_mut().unwrap().remove("password");
    let (status, updated) = admin.put(&format!("/admin/api/contacts/{id}"), &changed).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["first_name"], "Robert");

    let mut member = Client::new(&server);
    assert_eq!(member.sign_in("bsmith", "bob-password-123").await.status(), 303, "the password survived the update");
    let (status, _) =
        admin.post(&format!("/admin/api/contacts/{id}/password"), &json!({"password": "a-new-password-456"})).await;
    assert_eq!(status, 204);
    let mut member = Client::new(&server);
    assert_eq!(
        member.sign_in("bsmith@example.org", "a-new-password-456").await.status(),
        303,
        "email works as the username"
    );

    let (_, me) = admin.get("/admin/api/session").await;
    let my_id = me["contact_id"].as_str().unwrap();
    let (status, _) = admin.delete(&format!("/admin/api/contacts/{my_id}")).await;
    assert_eq!(status, 409, "an administrator cannot delete themselves");
    let (status, _) = admin.delete(&format!("/admin/api/contacts/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = admin.get(&format!("/admin/api/contacts/{id}")).await;
    assert_eq!(status, 404);
});

// Two administrators edit one contact: the change made from the older copy is refused with
// what differs, nothing of it is saved, and saving again from the newer revision keeps it.
both_backends!(queries_crud_validate_and_preview, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    create_queries(&admin).await;
    admin
        .post("/admin/api/contacts", &json!({"username": "bsmith", "first_name": "Bob", "status": "S", "roles": ["Staff", "Volunteer"], "attributes": {"city": "Leeds"}}))
        .await;

    let (status, body) =
        admin.post("/admin/api/queries/validate", &json!({"path": "$/SSO/ProfileData", "username": "bsmith"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parameter"], "username");
    assert_eq!(body["columns"][0], json!({"source": "first_name", "alias": "given_name"}));
    assert_eq!(body["preview"]["row"]["given_name"], "Bob");
    assert_eq!(body["preview"]["row"]["AccessRestrictionCode"], "S");
    assert_eq!(body["preview"]["row"]["address"]["locality"], "Leeds", "dotted aliases nest");
    let (_, roles) =
        admin.post("/admin/api/queries/validate", &json!({"path": "$/SSO/RoleData", "username": "bsmith"})).await;
    assert_eq!(roles["preview"]["rows"], json!(["Staff", "Volunteer"]));
    let (status, error) =
        admin.post("/admin/api/queries/validate", &json!({"path": "$/SSO/ProfileData", "username": "ghost"})).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("username")), "no row is an error: {error}");
    let (status, error) = admin
        .post("/admin/api/queries/validate", &json!({"path": "$/Draft", "kind": "role", "columns": [{"source": "roles", "alias": "a"}, {"source": "status", "alias": "b"}]}))
        .await;
    assert_eq!((status, error["field"].as_str()), (422, Some("columns")), "a role query has one column");
    let (status, error) = admin
        .post("/admin/api/queries/validate", &json!({"path": "$/Draft", "kind": "profile", "parameter": "id", "columns": [{"source": "email", "alias": "e"}]}))
        .await;
    assert_eq!((status, error["field"].as_str()), (422, Some("parameter")), "exactly one parameter, the username");
    let (status, error) = admin
        .post(
            "/admin/api/queries",
            &json!({"path": "$/SSO/ProfileData", "kind": "profile", "columns": [{"source": "email", "alias": "e"}]}),
        )
        .await;
    assert_eq!(status, 409, "{error}");

    let (status, read) = admin.get("/admin/api/queries/$/SSO/ProfileData").await;
    assert_eq!(status, 200, "{read}");
    let (status, read_encoded) = admin.get("/admin/api/queries/%24%2FSSO%2FProfileData").await;
    assert_eq!((status, &read_encoded), (200, &read), "percent-encoded paths work too");
    let (status, updated) = admin
        .put("/admin/api/queries/$/SSO/ProfileData", &json!({"path": "$/SSO/ProfileData", "kind": "profile", "columns": [{"source": "email", "alias": "email"}]}))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["columns"].as_array().unwrap().len(), 1);

    let (status, _) = admin.post("/admin/api/registrations", &registration()).await;
    assert_eq!(status, 201);
    let (status, error) = admin.delete("/admin/api/queries/$/SSO/RoleData").await;
    assert_eq!(status, 409, "a query in use cannot be deleted: {error}");
    let (status, error) = admin
        .put(
            "/admin/api/queries/$/SSO/RoleData",
            &json!({"path": "$/SSO/RoleData", "kind": "profile", "columns": [{"source": "roles", "alias": "r"}]}),
        )
        .await;
    assert_eq!(status, 409, "a query in use keeps its kind: {error}");
    let (_, list) = admin.get("/admin/api/queries").await;
    assert_eq!(list["queries"].as_array().unwrap().len(), 2);
});

both_backends!(only_administrators_with_csrf_tokens_get_in, |server: TestServer| async move {
    let anonymous = Client::new(&server);
    assert_eq!(anonymous.get("/admin/api/registrations").await.0, 401);
    assert_eq!(anonymous.post("/admin/api/contacts", &json!({"username": "x"})).await.0, 401);

    let mut admin = Client::admin(&server).await;
    admin.post("/admin/api/contacts", &json!({"username": "member", "password": "member-password-1"})).await;
    let mut member = Client::new(&server);
    assert_eq!(member.sign_in("member", "member-password-1").await.status(), 303);
    assert_eq!(member.get("/admin/api/registrations").await.0, 403, "members are refused");
    let page = member.http.get(member.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), 403, "members are refused the pages too");

    let token = admin.csrf.take();
    let (status, error) = admin.post("/admin/api/contacts", &json!({"username": "sneaky"})).await;
    assert_eq!(status, 403, "a cookie-authenticated write needs the CSRF header: {error}");
    admin.csrf = Some("wrong-token".into());
    assert_eq!(admin.post("/admin/api/contacts", &json!({"username": "sneaky"})).await.0, 403);
    admin.csrf = token;
    let (_, found) = admin.get("/admin/api/contacts?search=sneaky").await;
    assert!(found["contacts"].as_array().unwrap().is_empty(), "the refused writes changed nothing");

    let signin_without_token = anonymous
        .http
        .post(anonymous.url("/signin"))
        .form(&[("username", "admin"), ("password", gatehouse_tests::ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signin_without_token.status(), 403, "the sign-in form is CSRF-protected too");
});

both_backends!(failed_sign_ins_are_throttled_per_account, |server: TestServer| async move {
    let mut client = Client::new(&server);
    for _ in 0..gatehouse::local_signin::MAX_FAILURES {
        assert_eq!(client.sign_in("admin", "wrong-password-000").await.status(), 401);
    }
    let response = client.sign_in("admin", gatehouse_tests::ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429, "even the right password waits out the window");
    assert!(response.text().await.unwrap().contains("Too many failed attempts"));
    assert_eq!(
        Client::new(&server).sign_in("ghost", "whatever-password").await.status(),
        401,
        "unknown users get the same answer"
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_data_survives_a_restart() {
    let backend = gatehouse_tests::fresh_backend(gatehouse_tests::Kind::Embedded).await;
    let server = gatehouse_tests::start_on(backend.clone(), std::sync::Arc::new(gatehouse::clock::SystemClock)).await;
    let admin = Client::admin(&server).await;
    create_queries(&admin).await;
    let (_, created) = admin.post("/admin/api/registrations", &registration()).await;
    drop(admin);
    drop(server);

    let restarted = gatehouse_tests::start_on(backend, std::sync::Arc::new(gatehouse::clock::SystemClock)).await;
    let admin = Client::admin(&restarted).await;
    let (status, read) =
        admin.get(&format!("/admin/api/registrations/{}", created["client_id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(read, created, "registration and its secrets survive");
    let (_, queries) = admin.get("/admin/api/queries").await;
    assert_eq!(queries["queries"].as_array().unwrap().len(), 2);
}

both_backends!(short_lists_page_by_name_and_path, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    create_queries(&admin).await;
    for name in ["charlie", "Alpha", "bravo"] {
        let mut body = registration();
        body["name"] = json!(name);
        assert_eq!(admin.post("/admin/api/registrations", &body).await.0, 201);
    }
    let names = |page: &Value| -> Vec<String> {
        page["registrations"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
    };
    let (_, first) = admin.get("/admin/api/registrations?limit=2").await;
    assert_eq!(names(&first), ["Alpha", "bravo"], "by name, in any case");
    let after: String =
        url::form_urlencoded::byte_serialize(first["next_cursor"].as_str().unwrap().as_bytes()).collect();
    let (_, second) = admin.get(&format!("/admin/api/registrations?limit=2&after={after}")).await;
    assert_eq!(names(&second), ["charlie"]);
    assert!(second["next_cursor"].is_null());
    assert!(second["registrations"][0]["client_secret"].is_string(), "a page's registrations come with secrets");

    let (_, queries) = admin.get("/admin/api/queries?limit=1").await;
    assert_eq!(queries["queries"][0]["path"], "$/SSO/ProfileData");
    let after: String =
        url::form_urlencoded::byte_serialize(queries["next_cursor"].as_str().unwrap().as_bytes()).collect();
    let (_, rest) = admin.get(&format!("/admin/api/queries?limit=1&after={after}")).await;
    assert_eq!(rest["queries"][0]["path"], "$/SSO/RoleData");
    assert!(rest["next_cursor"].is_null());
});
