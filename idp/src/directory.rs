//! The admin directory's indexes: KV keys that make a page of users, a name search or a
//! group's members a bounded number of reads, whatever the number of users.
//!
//! - `uname:{user name}:{id}`: every user, in name order (KV lists keys sorted by their
//!   bytes), so a page is one prefix listing and a search by the start of a name is the
//!   same listing under `uname:{query}`.
//! - `member:{group id}:{user name}:{id}`: the members of a group, in name order.
//! - `admin:{id}`: the console's admins (the one-time admin link asks whether one has an
//!   authenticator).
//!
//! The user-name and member keys carry the user as the admin API shows it in their KV
//! metadata ([`listing_metadata`]), so a page of 100 is one listing and no record read.
//! The record itself stays at `user:{id}`; the edge worker writes these keys beside it
//! ([`index_changes`]) and, for records written before the index, rebuilds them in batches
//! (`POST /admin/api/directory/reindex`). A listing drops a member key whose user's
//! metadata no longer names the group (a key a lost write left behind).

#[cfg(test)]
use crate::ids::UserName;
use crate::schema::KvKey;
use crate::user::UserRecord;
use biopass_proto::admin::User;

/// The largest page an admin listing answers.
pub const MAX_PAGE: usize = 100;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// The largest KV metadata value (Cloudflare's limit, serialised JSON).
pub const METADATA_MAX: usize = 1024;

/// The metadata a listing key carries: the user's view, when it fits in [`METADATA_MAX`]
/// (a user in very many groups does not; the listing then reads the record).
pub fn listing_metadata(user: &User) -> Option<serde_json::Value> {
    let value = serde_json::to_value(user).ok()?;
    (value.to_string().len() <= METADATA_MAX).then_some(value)
}

/// The index keys to write (with the user's listing metadata) and to delete when a user's
/// record changes from `before` (none for a new user, or for a rebuild) to `after`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexChanges {
    pub put: Vec<String>,
    pub delete: Vec<String>,
}

/// Every index key of `user`: their place in the users listing, in each group's members,
/// and among the admins.
pub fn index_keys(user: &UserRecord) -> Vec<String> {
    let mut keys = vec![KvKey::UserIndex(&user.username, &user.id).to_string()];
    keys.extend(user.groups.iter().filter(|g| !g.is_empty()).map(|g| KvKey::Member { group: g, name: &user.username, id: &user.id }.to_string()));
    if user.admin {
        keys.push(KvKey::Admin(&user.id).to_string());
    }
    keys
}

/// See [`IndexChanges`]. Every current key is written again, so the metadata follows the
/// record and a key lost to an earlier failed write comes back.
pub fn index_changes(before: Option<&UserRecord>, after: &UserRecord) -> IndexChanges {
    let mut changes = IndexChanges { put: index_keys(after), delete: Vec::new() };
    if let Some(before) = before {
        if before.username != after.username {
            changes.delete.push(KvKey::UserIndex(&before.username, &before.id).to_string());
            changes
                .delete
                .extend(before.groups.iter().filter(|g| !g.is_empty()).map(|g| KvKey::Member { group: g, name: &before.username, id: &before.id }.to_string()));
        } else {
            let (_, left) = membership_changes(&before.groups, &after.groups);
            changes.delete.extend(left.into_iter().map(|g| KvKey::Member { group: g, name: &before.username, id: &before.id }.to_string()));
        }
        if before.admin && !after.admin {
            changes.delete.push(KvKey::Admin(&before.id).to_string());
        }
    }
    changes
}

/// Whether a listed user belongs in the listing of `group` (`None`: the users listing).
pub fn listed(user: &User, group: Option<&str>) -> bool {
    group.is_none_or(|g| user.groups.iter().any(|x| x == g))
}

/// The groups a user joined and left between two versions of their record.
pub fn membership_changes<'a>(before: &'a [String], after: &'a [String]) -> (Vec<&'a str>, Vec<&'a str>) {
    let joined = after.iter().filter(|g| !g.is_empty() && !before.contains(g)).map(String::as_str).collect();
    let left = before.iter().filter(|g| !g.is_empty() && !after.contains(g)).map(String::as_str).collect();
    (joined, left)
}

/// A page size asked for in a query: `None` gives [`DEFAULT_PAGE`].
///
/// # Errors
/// A message for people when it is not a number from 1 to [`MAX_PAGE`].
pub fn page_size(asked: Option<&str>) -> Result<usize, String> {
    match asked {
        None => Ok(DEFAULT_PAGE),
        Some(s) => s.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| format!("limit is a number from 1 to {MAX_PAGE}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{id_of, KvPrefix};

    fn user_key(name: &UserName, id: &str) -> String {
        KvKey::UserIndex(name, id).to_string()
    }

    fn member_key(group: &str, name: &UserName, id: &str) -> String {
        KvKey::Member { group, name, id }.to_string()
    }

    fn admin_key(id: &str) -> String {
        KvKey::Admin(id).to_string()
    }

    fn users_search_prefix(start: &str) -> String {
        KvPrefix::UsersNamed(start).to_string()
    }

    fn name(s: &str) -> UserName {
        UserName::parse(s).unwrap()
    }

    #[test]
    fn keys_sort_by_name_and_give_back_the_id() {
        let mut keys = [user_key(&name("zoe@example.com"), "u3"), user_key(&name("ada@example.com"), "u1"), user_key(&name("ada.b@example.com"), "u2")];
        keys.sort();
        let ids: Vec<_> = keys.iter().filter_map(|k| id_of(k)).collect();
        assert_eq!(ids, ["u2", "u1", "u3"]);
        assert!(user_key(&name("Ada@Example.com"), "u1").starts_with(&users_search_prefix("ADA")));
        assert!(!user_key(&name("bob@example.com"), "u9").starts_with(&users_search_prefix("ada")));
        // A name with colons still gives back its id.
        assert_eq!(id_of(&member_key("g1", &name("a:b:c"), "u7")), Some("u7"));
        assert_eq!(id_of("user:u1"), None);
        assert_eq!(id_of("uname:x:"), None);
    }

    #[test]
    fn membership_changes_are_the_difference() {
        let before = vec!["g1".to_owned(), "g2".to_owned(), String::new()];
        let after = vec!["g2".to_owned(), "g3".to_owned()];
        assert_eq!(membership_changes(&before, &after), (vec!["g3"], vec!["g1"]));
        assert_eq!(membership_changes(&after, &after), (vec![], vec![]));
    }

    fn record(name_: &str, groups: &[&str], admin: bool) -> UserRecord {
        let mut u = UserRecord::register(name(name_), None, "", &mut crate::random::TestEntropy::new(1), 5);
        u.groups = groups.iter().map(|g| (*g).to_owned()).collect();
        u.admin = admin;
        u
    }

    #[test]
    fn index_changes_follow_the_record() {
        let new = record("ada@example.com", &["g1", "g2"], false);
        let id = new.id.clone();
        let c = index_changes(None, &new);
        assert_eq!(c.put, [format!("uname:ada@example.com:{id}"), format!("member:g1:ada@example.com:{id}"), format!("member:g2:ada@example.com:{id}")]);
        assert!(c.delete.is_empty());
        // Leaves g1, joins g3, becomes an admin.
        let mut moved = new.clone();
        moved.groups = vec!["g2".into(), "g3".into()];
        moved.admin = true;
        let c = index_changes(Some(&new), &moved);
        assert!(c.put.contains(&format!("member:g3:ada@example.com:{id}")) && c.put.contains(&admin_key(&id)));
        assert_eq!(c.delete, [format!("member:g1:ada@example.com:{id}")]);
        // No longer an admin.
        let c = index_changes(Some(&moved), &new);
        assert!(c.delete.contains(&admin_key(&id)) && !c.put.contains(&admin_key(&id)));
        // Every key of every version is one the listings give back the id of.
        assert!(c.put.iter().chain(&c.delete).all(|k| id_of(k) == Some(id.as_str())));
    }

    #[test]
    fn listing_metadata_is_the_view_when_it_fits() {
        let u = record("ada@example.com", &["g1"], false).view();
        let m = listing_metadata(&u).unwrap();
        assert_eq!(serde_json::from_value::<User>(m).unwrap(), u);
        let crowded = record("ada@example.com", &["abcdefghijkl"; 80], false).view();
        assert!(listing_metadata(&crowded).is_none());
        assert!(listed(&u, Some("g1")) && listed(&u, None) && !listed(&u, Some("g2")));
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None), Ok(DEFAULT_PAGE));
        assert_eq!(page_size(Some("100")), Ok(100));
        assert!(page_size(Some("0")).is_err());
        assert!(page_size(Some("101")).is_err());
        assert!(page_size(Some("-1")).is_err());
        assert!(page_size(Some("ten")).is_err());
    }
}
