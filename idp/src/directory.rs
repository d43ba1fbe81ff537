//! The admin directory's indexes: KV keys that make a page of users, a name search or a
//! group's members a bounded number of reads, whatever the number of users.
//!
//! - `uname:{user name}:{id}`: every user, in name order (KV lists keys sorted by their
//!   bytes), so a page is one prefix listing and a search by the start of a name is the
//!   same listing under `uname:{query}`.
//! - `member:{group id}:{user name}:{id}`: the members of a group, in name order.
//!
//! The record itself stays at `user:{id}`; the edge worker writes these keys beside it and
//! removes the membership keys of groups a user left ([`membership_changes`]).

use crate::ids::UserName;

/// The largest page an admin listing answers.
pub const MAX_PAGE: usize = 100;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// The prefix every user-name index key starts with.
pub const USERS_PREFIX: &str = "uname:";

/// The user-name index key of a user.
pub fn user_key(name: &UserName, id: &str) -> String {
    format!("{USERS_PREFIX}{name}:{id}")
}

/// The prefix of the user-name keys of names starting with `query` (lower-cased, as names
/// are stored).
pub fn users_search_prefix(query: &str) -> String {
    format!("{USERS_PREFIX}{}", query.to_lowercase())
}

/// The prefix of the membership keys of group `group_id`.
pub fn members_prefix(group_id: &str) -> String {
    format!("member:{group_id}:")
}

/// The membership key of a user in a group.
pub fn member_key(group_id: &str, name: &UserName, id: &str) -> String {
    format!("{}{name}:{id}", members_prefix(group_id))
}

/// The user id an index key ends with (ids hold no `:`), or `None` for a key that is not
/// one of these.
pub fn id_of(key: &str) -> Option<&str> {
    let (head, id) = key.rsplit_once(':')?;
    (head.starts_with(USERS_PREFIX) || head.starts_with("member:")).then_some(id).filter(|id| !id.is_empty())
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
