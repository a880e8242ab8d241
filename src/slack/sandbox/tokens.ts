/**
 * Bot tokens besides the one the server was started with: tests revoke a token (Slack then answers
 * `token_revoked`) and issue its replacement, as an admin reinstalling the app would.
 */
export class SandboxTokens {
  readonly #issued = new Set<string>();
  readonly #revoked = new Set<string>();

  /** Accepts `token` from now on (a reinstalled app's new token). */
  issue(token: string): void {
    this.#issued.add(token);
    this.#revoked.delete(token);
  }

  /** Refuses `token` from now on with `token_revoked`. */
  revoke(token: string): void {
    this.#revoked.add(token);
    this.#issued.delete(token);
  }

  /** Slack's answer to a call made with `given`, when the server's own token is `primary`. */
  check(given: string, primary: string): "ok" | "token_revoked" | "invalid_auth" {
    if (this.#revoked.has(given)) return "token_revoked";
    return given === primary || this.#issued.has(given) ? "ok" : "invalid_auth";
  }
}
