/**
 * The likely cause, and its cure, of what a pooler in transaction mode breaks on waiter's
 * connections (LISTEN, the upgrade lock), as a warning says it: `breaks`, what it does there;
 * `urlFrom`, where the URL was given (WAITER_DATABASE_URL, or database.url in the config file).
 */
export function throughTransactionPooler(breaks: string, urlFrom: string): string {
  return `most often ${urlFrom} names a connection pooler in transaction mode (PgBouncer's pool_mode = transaction, Supabase's port 6543, a Neon host whose name has -pooler), which ${breaks}; name the database server itself, or the pooler's session mode (Supabase's port 5432)`;
}
