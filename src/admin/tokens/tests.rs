use super::*;

#[test]
fn dates_are_utc() {
    assert_eq!(utc(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc(1_764_547_200_000), "2025-12-01 00:00 UTC");
    assert_eq!(utc(951_825_600_000), "2000-02-29 12:00 UTC");
}
