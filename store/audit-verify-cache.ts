/** Page cache of a connection that scans the log (SQLite cache_size; negative = KiB): a scan gains nothing from more. */
export const SCAN_CACHE_SIZE = -2048;
