/** The built-in Slack sandbox: an in-memory Web API, a driver that plays Slack towards the bot, and a terminal printer. */
export { toApiMessage } from "./api-message.js";
export { BLOCK_LIMITS, validateBlocks, validateView } from "./block-kit.js";
export { renderBlocks, renderElement } from "./block-render.js";
export {
  type Clickable,
  type ClickOptions,
  type CommandOptions,
  type DriverResponse,
  SANDBOX_VERIFICATION_TOKEN,
  SandboxDriver,
  type SandboxDriverOptions,
  type SigningOverrides,
  type SubmitOptions,
} from "./driver.js";
export { type ActiveFault, type FaultKind, type FaultRule, SandboxFaults } from "./faults.js";
export { renderMrkdwn } from "./mrkdwn.js";
export { attachTerminalPrinter } from "./printer.js";
export { applyResponse, type ResponseOutcome, type ResponsePayload } from "./response-apply.js";
export { sandboxResponseUrls } from "./response-url.js";
export { RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL_MS, type ResponseTarget } from "./response-url-registry.js";
export {
  type RegisterSandboxOptions,
  registerSandbox,
  type SandboxServer,
  type StartSandboxOptions,
  startSandboxServer,
} from "./server.js";
export {
  type DeliverOptions,
  type DisconnectReason,
  type EnvelopeType,
  SandboxSocketMode,
  type SandboxSocketOptions,
  type SocketAck,
  type SocketDelivery,
} from "./socket-hub.js";
export { TRIGGER_TTL_MS } from "./trigger-registry.js";
export { compareTs, formatTs } from "./ts-clock.js";
export type * from "./types.js";
export { buildViewState, type ViewInputValue, type ViewStateValues } from "./view-state.js";
export { type SandboxWebApiOptions, sandboxWebApi } from "./web-api.js";
export {
  SANDBOX_BOT,
  type SandboxEvents,
  type SandboxSeed,
  type SandboxSeedUser,
  SandboxWorkspace,
  type SandboxWorkspaceOptions,
} from "./workspace.js";
