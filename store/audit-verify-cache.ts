/** Page cache of a connection that scans the log (SQLite cache_size; negative = KiB): a scan gains nothing from more
 * (512 KiB against 2 MiB: the same verify time, about 2 MB less peak RSS over the three connections of a 1M verify). */
export const SCAN_CACHE_SIZE = -512;
