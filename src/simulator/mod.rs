//! The vendor simulator behind `callhook simulate` (alias `callhook
//! push`): sends push bodies to any receiver the way a vendor does
//! ([`profile`]: what counts as accepted, the request timeout, the retry
//! schedule), one body with all its retries at a time ([`deliver()`]), and
//! makes bodies of new, unique calls from a template for load tests
//! ([`generate`]).

pub mod deliver;
pub mod generate;
pub mod profile;

pub use deliver::{deliver, Attempt, Credentials, Outcome};
pub use generate::Generator;
pub use profile::Profile;
