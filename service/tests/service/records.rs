use crate::helpers::{name, run};
use biopass_idp::authorize::CognitoContext;
use biopass_idp::random::TestEntropy;
use biopass_idp::schema::KvKey;
use biopass_idp::user::UserRecord;
use biopass_proto::admin::{AuditEntry, AuditOutcome, AuditPage, AuditQuery, Group};
use biopass_service::memory::MemoryRecords;
use biopass_service::records::{RecordStore, Records, REINDEX_BATCH};

fn store() -> RecordStore<MemoryRecords> {
    RecordStore::new(MemoryRecords::default())
}

fn member(n: &str, group: &str, rng: &mut TestEntropy) -> UserRecord {
    UserRecord::register(name(n), None, group, rng, 1)
}

fn names(page: &biopass_proto::admin::Page<biopass_proto::admin::User>) -> Vec<String> {
    page.items.iter().map(|u| u.username.to_string()).collect()
}

#[test]
fn users_are_listed_by_name_in_pages_and_found_by_the_start_of_their_name() {
    let s = store();
    let mut rng = TestEntropy::new(1);
    for n in ["dora@example.com", "ada@example.com", "cleo@example.com", "bob@example.com", "adam@example.com"] {
        run(s.put_user(&member(n, "g1", &mut rng))).unwrap();
    }
    let first = run(s.user_page("", None, 2, None)).unwrap();
    assert_eq!(names(&first), ["ada@example.com", "adam@example.com"]);
    let second = run(s.user_page("", None, 2, first.next_cursor.clone())).unwrap();
    assert_eq!(names(&second), ["bob@example.com", "cleo@example.com"]);
    let last = run(s.user_page("", None, 2, second.next_cursor.clone())).unwrap();
    assert_eq!(names(&last), ["dora@example.com"]);
    assert_eq!(last.next_cursor, None, "the end of the listing");
    // A search is the start of the name, case-insensitive.
    assert_eq!(names(&run(s.user_page("ADA", None, 50, None)).unwrap()), ["ada@example.com", "adam@example.com"]);
    assert_eq!(names(&run(s.user_page("zed", None, 50, None)).unwrap()), Vec::<String>::new());
}

#[test]
fn a_user_who_changes_group_leaves_the_old_groups_member_list() {
    let s = store();
    let mut rng = TestEntropy::new(2);
    let mut ada = member("ada@example.com", "g1", &mut rng);
    run(s.put_user(&ada)).unwrap();
    run(s.put_user(&member("bob@example.com", "g1", &mut rng))).unwrap();
    assert_eq!(names(&run(s.user_page("", Some("g1"), 50, None)).unwrap()), ["ada@example.com", "bob@example.com"]);

    ada.groups = vec!["g2".into()];
    run(s.put_user(&ada)).unwrap();
    assert_eq!(names(&run(s.user_page("", Some("g1"), 50, None)).unwrap()), ["bob@example.com"]);
    assert_eq!(names(&run(s.user_page("", Some("g2"), 50, None)).unwrap()), ["ada@example.com"]);
    // The record and the name key follow.
    assert_eq!(run(s.user_named(None, &name("ada@example.com"))).unwrap().unwrap().groups, ["g2"]);
    assert_eq!(run(s.user(&ada.id)).unwrap().unwrap(), ada);
}

#[test]
fn a_name_key_of_another_realm_does_not_find_the_user() {
    let s = store();
    let ada = member("ada@example.com", "g1", &mut TestEntropy::new(3));
    run(s.put_user(&ada)).unwrap();
    let pool = CognitoContext { aws_account_id: "123456789012".into(), region: "eu-west-1".into(), user_pool_id: "eu-west-1_Abc".into() };
    assert_eq!(run(s.user_named(Some(&pool), &name("ada@example.com"))).unwrap(), None);
    assert!(run(s.user_named(None, &name("ada@example.com"))).unwrap().is_some());
}

#[test]
fn records_from_before_the_index_are_indexed_in_batches() {
    let s = store();
    let mut rng = TestEntropy::new(4);
    let count = REINDEX_BATCH as usize + 30;
    for i in 0..count {
        // Written as an old deployment did: the record and its name key, no index keys.
        let u = member(&format!("old-{i:04}@example.com"), "g1", &mut rng);
        run(s.put_json(&KvKey::User(&u.id).to_string(), &u)).unwrap();
    }
    assert!(run(s.user_page("old-", None, 50, None)).unwrap().items.is_empty(), "not indexed yet");
    assert!(!run(s.directory_indexed()).unwrap());

    let (done, cursor) = run(s.reindex(None)).unwrap();
    assert_eq!((done, cursor.is_some()), (REINDEX_BATCH as usize, true));
    assert!(!run(s.directory_indexed()).unwrap(), "one batch is not the whole directory");
    let (done, cursor) = run(s.reindex(cursor)).unwrap();
    assert_eq!((done, cursor), (30, None));
    assert!(run(s.directory_indexed()).unwrap());

    let mut seen = 0;
    let mut cursor = None;
    loop {
        let page = run(s.user_page("old-", None, 100, cursor)).unwrap();
        seen += page.items.len();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, count);
}

#[test]
fn groups_are_listed_by_name_from_their_metadata() {
    let s = store();
    for (id, n) in [("g1", "Payroll"), ("g2", "accounts"), ("g3", "Board")] {
        run(s.put_group(&Group { id: id.into(), name: n.into(), created_at: 1 })).unwrap();
    }
    let listed: Vec<String> = run(s.groups()).unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(listed, ["accounts", "Board", "Payroll"]);
    run(s.delete_group("g2")).unwrap();
    assert_eq!(run(s.groups()).unwrap().len(), 2);
    assert_eq!(run(s.group("g2")).unwrap(), None);
}

#[test]
fn the_audit_log_pages_newest_first_and_keeps_two_entries_of_one_millisecond() {
    let s = store();
    let entry =
        |at_ms: u64, action: &str| AuditEntry { at_ms, actor: "admin".into(), action: action.into(), target: None, target_name: None, detail: None, ip: None };
    run(s.put_audit(&entry(1_000, "first"), "a")).unwrap();
    run(s.put_audit(&entry(3_000, "third"), "a")).unwrap();
    run(s.put_audit(&entry(2_000, "second"), "a")).unwrap();
    run(s.put_audit(&entry(2_000, "second again"), "b")).unwrap();
    let page = run(s.audit_page(None, 2)).unwrap();
    assert_eq!(page.items.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["third", "second"]);
    let rest = run(s.audit_page(page.next_cursor, 100)).unwrap();
    assert_eq!(rest.items.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["second again", "first"]);
    assert_eq!(rest.next_cursor, None);
}

#[test]
fn the_audit_log_is_searched_newest_first_in_whole_listings_within_a_time_range() {
    let s = store();
    let entry = |at_ms: u64, actor: &str, action: &str| AuditEntry {
        at_ms,
        actor: actor.into(),
        action: action.into(),
        target: Some("c1".into()),
        target_name: Some("Payroll".into()),
        detail: None,
        ip: None,
    };
    for i in 0..12u64 {
        let (actor, action) = if i % 3 == 0 { ("user:mallory", "face.attack") } else { ("admin:root", "application.update") };
        run(s.put_audit(&entry(1_000 + i, actor, action), "a")).unwrap();
    }
    let attacks = AuditQuery { outcome: Some(AuditOutcome::Attack), ..AuditQuery::default() };
    // Listings of two until two attacks: 1011-1010 none, 1009-1008 one, 1007-1006 one.
    let at = |p: &AuditPage| p.items.iter().map(|e| e.at_ms).collect::<Vec<_>>();
    let page = run(s.audit_search(&attacks, None, 2, 100)).unwrap();
    assert_eq!((at(&page), page.scanned), (vec![1_009, 1_006], 6));
    // A scan limit ends a page early, with a cursor, even with no match yet.
    let next = run(s.audit_search(&attacks, page.next_cursor.clone(), 2, 2)).unwrap();
    assert_eq!((at(&next), next.scanned), (vec![], 2));
    let last = run(s.audit_search(&attacks, next.next_cursor.clone(), 2, 100)).unwrap();
    assert_eq!((at(&last), last.scanned, last.next_cursor), (vec![1_003, 1_000], 4, None));
    // A time range stops at its start: no cursor past it.
    let range = AuditQuery { actor: Some("MALLORY".into()), since_ms: Some(1_003), until_ms: Some(1_009), ..AuditQuery::default() };
    let page = run(s.audit_search(&range, None, 100, 1_000)).unwrap();
    assert_eq!(page.items.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [1_009, 1_006, 1_003]);
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.scanned, 10, "1011 down to 1002, which is past the range");
    // The names match too.
    let by_name = AuditQuery { target: Some("payroll".into()), ..AuditQuery::default() };
    assert_eq!(run(s.audit_search(&by_name, None, 100, 1_000)).unwrap().items.len(), 12);
}

#[test]
fn a_value_that_is_not_the_record_is_a_store_error_not_a_panic() {
    let s = store();
    run(s.raw().put(&KvKey::User("u1").to_string(), "{not json".into(), None, None)).unwrap();
    let err = run(s.user("u1")).unwrap_err();
    assert!(err.0.contains("user:u1"), "{err}");
    // An unknown or oversized client id is no application, without a read.
    assert_eq!(run(s.application(&"x".repeat(65))).unwrap(), None);
}

#[test]
fn a_remembered_name_is_checked_against_the_user_it_names() {
    let s = store();
    let mut rng = TestEntropy::new(7);
    let ada = member("ada@example.com", "g1", &mut rng);
    run(s.put_user(&ada)).unwrap();
    let n = name("ada@example.com");
    assert_eq!(run(s.user_named(None, &n)).unwrap().map(|u| u.id), Some(ada.id.clone()));
    s.raw().take_calls();
    // Read again: the name's id is remembered, only the record is read.
    assert_eq!(run(s.user_named(None, &n)).unwrap().map(|u| u.id), Some(ada.id.clone()));
    assert_eq!(s.raw().take_calls(), [format!("get {}", KvKey::User(&ada.id))]);
    // Deleted, and the name given to someone new (the store still remembers ada's id, as
    // another isolate would): the new user is found, never the deleted one.
    run(s.delete_user(&ada)).unwrap();
    assert_eq!(run(s.user_named(None, &n)).unwrap(), None, "a deleted user is not found by the name they had");
    let again = member("ada@example.com", "g2", &mut rng);
    assert_ne!(again.id, ada.id);
    run(s.put_user(&again)).unwrap();
    assert_eq!(run(s.user_named(None, &n)).unwrap().map(|u| u.id), Some(again.id.clone()));
    // A name in another realm is not this one, remembered or not.
    let pool = CognitoContext { aws_account_id: "123456789012".into(), region: "eu-west-1".into(), user_pool_id: "eu-west-1_Abc".into() };
    assert_eq!(run(s.user_named(Some(&pool), &n)).unwrap(), None);
}

#[test]
fn what_runs_beside_a_users_record_is_kept_only_for_the_id_that_is_theirs() {
    let s = store();
    let mut rng = TestEntropy::new(8);
    let ada = member("ada@example.com", "g1", &mut rng);
    run(s.put_user(&ada)).unwrap();
    let n = name("ada@example.com");
    let beside = |id: String| std::future::ready(id);
    // The name's id: the record and what runs beside it, for that id.
    let (found, with) = run(s.user_named_with(None, &n, beside)).unwrap();
    assert_eq!((found.map(|u| u.id), with), (Some(ada.id.clone()), Some(ada.id.clone())));
    // Remembered ada's id, the name now someone else's: their record, and nothing of what
    // ran beside it for ada's id.
    run(s.delete_user(&ada)).unwrap();
    let again = member("ada@example.com", "g2", &mut rng);
    run(s.put_user(&again)).unwrap();
    let (found, with) = run(s.user_named_with(None, &n, beside)).unwrap();
    assert_eq!(found.map(|u| u.id), Some(again.id.clone()));
    assert_eq!(with, None);
    // No such name: nothing, and nothing ran.
    assert_eq!(run(s.user_named_with(None, &name("nobody@example.com"), beside)).unwrap(), (None, None));
}
