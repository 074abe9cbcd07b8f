//! What every page shares: the header's [`Chrome`], and the login and
//! error pages. Templates live in `templates/` and are compiled into the
//! binary by askama, which escapes every value for HTML.

use askama::Template;

/// The header's state: the CSRF token for its forms (log out, replay,
/// retry), whether a login is in force, and a message from the last action.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub csrf: String,
    pub logged_in: bool,
    /// Whether the session may replay and retry (shows those buttons).
    pub can_admin: bool,
    /// "name (scope)" of the logged-in token.
    pub user: Option<String>,
    pub flash: Option<String>,
    /// The display zone's name (times on the page are in it).
    pub tz: String,
    /// The link to the zone choice, coming back to this page.
    pub preferences: String,
    /// The health strip's figures (`None` before the first read).
    pub health: Option<std::sync::Arc<crate::alerts::health::HealthStrip>>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub heading: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf: String,
    /// Where to go after logging in (a path of this site).
    pub next: String,
    pub error: Option<String>,
}

/// One option of a `<select>` (or a tab), and whether it is the current one.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The options `values` (each its own label) with `current` selected.
pub fn choices<S: Into<String>>(values: impl IntoIterator<Item = S>, current: &str) -> Vec<Choice> {
    values
        .into_iter()
        .map(|v| {
            let value: String = v.into();
            Choice {
                selected: value == current.trim(),
                label: value.clone(),
                value,
            }
        })
        .collect()
}
