import { type View, WebAPIPlatformError } from "@slack/web-api";
import { afterEach, describe, expect, it } from "vitest";
import { type Fixture, manualClock, rejectionOf, startFixture } from "./sandbox-fixture.js";

const modal: View = {
  type: "modal",
  callback_id: "retrain",
  title: { type: "plain_text", text: "Retrain model" },
  private_metadata: "churn-v3",
  blocks: [
    {
      type: "input",
      block_id: "reason",
      label: { type: "plain_text", text: "Reason" },
      element: { type: "plain_text_input", action_id: "reason_text" },
    },
  ],
};

function errorCode(error: unknown): string {
  expect(error).toBeInstanceOf(WebAPIPlatformError);
  return (error as WebAPIPlatformError).data.error;
}

describe("sandbox views", () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.server.close();
    fx = undefined;
  });

  it("views.open with a fresh trigger opens the modal for the trigger's user and returns its id", async () => {
    fx = await startFixture();
    const trigger = fx.server.workspace.triggers.issue("U0ALICE");
    const result = await fx.client.views.open({ trigger_id: trigger, view: modal });
    expect(result.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      callback_id: "retrain",
      private_metadata: "churn-v3",
    });
    expect(fx.server.workspace.view(result.view?.id ?? "")).toMatchObject({ user: "U0ALICE", open: true });
  });

  it("views.open with a trigger older than 3 s fails with expired_trigger_id", async () => {
    const clock = manualClock();
    fx = await startFixture({ clock: clock.now });
    const trigger = fx.server.workspace.triggers.issue("U0ALICE");
    clock.advance(3001);
    expect(errorCode(await rejectionOf(fx.client.views.open({ trigger_id: trigger, view: modal })))).toBe(
      "expired_trigger_id",
    );
  });

  it("views.open with an already used trigger fails with exchanged_trigger_id", async () => {
    fx = await startFixture();
    const trigger = fx.server.workspace.triggers.issue("U0ALICE");
    await fx.client.views.open({ trigger_id: trigger, view: modal });
    expect(errorCode(await rejectionOf(fx.client.views.open({ trigger_id: trigger, view: modal })))).toBe(
      "exchanged_trigger_id",
    );
  });

  it("views.open with a trigger the sandbox never issued fails with invalid_trigger_id", async () => {
    fx = await startFixture();
    expect(
      errorCode(await rejectionOf(fx.client.views.open({ trigger_id: "12.34.made-up", view: modal }))),
    ).toBe("invalid_trigger_id");
  });

  it("views.update by view_id replaces the content and keeps the id", async () => {
    fx = await startFixture();
    const opened = await fx.client.views.open({
      trigger_id: fx.server.workspace.triggers.issue("U0BOB"),
      view: modal,
    });
    const id = opened.view?.id ?? "";
    const updated = await fx.client.views.update({
      view_id: id,
      view: { ...modal, title: { type: "plain_text", text: "Queued" } },
    });
    expect(updated.view).toMatchObject({ id, title: { text: "Queued" } });
    expect(fx.server.workspace.view(id)?.updates).toBe(1);
    expect(errorCode(await rejectionOf(fx.client.views.update({ view_id: "V0NOPE", view: modal })))).toBe(
      "not_found",
    );
  });
});

describe("sandbox file uploads", () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.server.close();
    fx = undefined;
  });

  it("files.uploadV2 (the three-step upload) stores the bytes and shares the file into the thread", async () => {
    fx = await startFixture();
    const parent = await fx.client.chat.postMessage({ channel: "C0ALERTS", text: "incident" });
    const content = "feature,psi\nage,0.31\n";
    await fx.client.files.uploadV2({
      channel_id: "C0ALERTS",
      thread_ts: parent.ts ?? "",
      content,
      filename: "drift.csv",
      title: "Drift report",
      initial_comment: "PSI per feature",
    });
    const [file] = fx.server.workspace.files();
    expect(file).toMatchObject({ name: "drift.csv", title: "Drift report", completed: true });
    expect(file?.bytes?.toString("utf8")).toBe(content);
    expect(file?.shares).toEqual([{ channel: "C0ALERTS", ts: expect.any(String), thread_ts: parent.ts }]);
    const reply = fx.server.workspace.thread("C0ALERTS", parent.ts ?? "")[1];
    expect(reply).toMatchObject({ text: "PSI per feature", files: [file?.id] });
  });

  it("the trio by hand: upload_url takes raw bytes and completeUploadExternal titles and shares the file", async () => {
    fx = await startFixture();
    const reserved = await fx.client.files.getUploadURLExternal({ filename: "model.bin", length: 4 });
    expect(reserved.upload_url).toBe(`${fx.server.url}upload/${reserved.file_id}`);
    const uploaded = await fetch(reserved.upload_url ?? "", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array([1, 2, 3, 4]),
    });
    expect(uploaded.status).toBe(200);
    const completed = await fx.client.files.completeUploadExternal({
      files: [{ id: reserved.file_id ?? "", title: "Weights" }],
      channel_id: "C0ALERTS",
    });
    expect(completed.files?.[0]).toMatchObject({ id: reserved.file_id, title: "Weights", size: 4 });
    expect([...(fx.server.workspace.file(reserved.file_id ?? "")?.bytes ?? [])]).toEqual([1, 2, 3, 4]);
    expect(fx.server.workspace.lastMessage("C0ALERTS")?.files).toEqual([reserved.file_id]);
  });

  it("completing a file whose bytes never arrived fails with file_not_found", async () => {
    fx = await startFixture();
    const reserved = await fx.client.files.getUploadURLExternal({ filename: "empty.txt", length: 1 });
    const error = await rejectionOf(
      fx.client.files.completeUploadExternal({ files: [{ id: reserved.file_id ?? "" }] }),
    );
    expect(errorCode(error)).toBe("file_not_found");
  });

  it("posting to an upload_url that was never issued answers 404", async () => {
    fx = await startFixture();
    const response = await fetch(`${fx.server.url}upload/F0NOPE`, { method: "POST", body: "x" });
    expect(response.status).toBe(404);
  });
});
