//! The reliability variants a scenario can compare on the same seeds and faults.

/// Every variant name a scenario may list, in the order reports show them.
pub const KNOWN_VARIANTS: &[&str] = &["none"];

/// A reliability strategy layered on the plain Waku protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// Plain Waku: relay (or lightpush + filter for light clients), no retries, no store use.
    None,
}

impl Variant {
    /// The variant named `name`, if it exists.
    pub fn parse(name: &str) -> Option<Variant> {
        match name {
            "none" => Some(Variant::None),
            _ => None,
        }
    }

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Variant::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_parses_and_round_trips() {
        for name in KNOWN_VARIANTS {
            let variant = Variant::parse(name).expect("known variant parses");
            assert_eq!(variant.name(), *name);
        }
        assert_eq!(Variant::parse("store-chek"), None);
    }
}
