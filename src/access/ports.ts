/** A Slack user group as the config names it. */
export interface GroupRef {
  handle: string;
  id?: string | undefined;
}

/** Who belongs to a user group right now (Slack's usergroups API behind it). */
export interface GroupDirectory {
  members(group: GroupRef): Promise<string[]>;
}
