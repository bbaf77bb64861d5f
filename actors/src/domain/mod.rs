//! The pure domain layer: state machines, settings, matching and scheduling
//! rules of seed 003, with no actix, no I/O and no clock of their own (every
//! function that needs "now" takes it as an argument).

pub mod agents;
pub mod availability;
pub mod business_hours;
pub mod communication;
pub mod conversation;
pub mod inactivity;
pub mod keywords;
pub mod pricing;
pub mod queue;
pub mod session;
pub mod settings;
pub mod text;
pub mod ticket;

/// Checks a state machine against a table written independently of it: for
/// every state times every event, `transition` must give exactly what
/// `expected` gives. Returns how many pairs the table allows, so each
/// caller can pin the size of its machine.
#[cfg(test)]
pub(crate) fn check_whole_table<S, E, Err>(
    states: &[S],
    events: &[E],
    transition: impl Fn(S, E) -> Result<S, Err>,
    expected: impl Fn(S, E) -> Result<S, Err>,
) -> usize
where
    S: Copy + PartialEq + std::fmt::Debug + std::fmt::Display,
    E: Copy + std::fmt::Display,
    Err: PartialEq + std::fmt::Debug,
{
    let mut allowed = 0;
    for &from in states {
        for &event in events {
            let got = transition(from, event);
            assert_eq!(got, expected(from, event), "{from} x {event}");
            allowed += usize::from(got.is_ok());
        }
    }
    allowed
}
