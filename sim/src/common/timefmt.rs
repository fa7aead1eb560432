//! Calendar formatting of Unix timestamps without a date crate.

/// Broken-down civil time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Civil time of `unix` seconds shifted by `utc_offset_secs`.
pub(crate) fn civil(unix: i64, utc_offset_secs: i64) -> Civil {
    let t = unix + utc_offset_secs;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs % 3600 / 60) as u32,
        second: (secs % 60) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_doc_example() {
        // The AVD doc pairs start_time 1638324431 with a file stamped
        // 2021-12-01-10-07-11 (China Standard Time, UTC+8).
        let c = civil(1_638_324_431, 8 * 3600);
        assert_eq!(c, Civil { year: 2021, month: 12, day: 1, hour: 10, minute: 7, second: 11 });
        assert_eq!(civil(0, 0).year, 1970);
        assert_eq!(civil(951_782_400, 0).month, 2); // 2000-02-29
        assert_eq!(civil(951_782_400, 0).day, 29);
    }
}
