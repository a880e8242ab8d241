export { InvalidEventError } from "./errors.js";
export { EVENT_TYPES, type Half, type LoggedEvent, parseLoggedEvent } from "./event.js";
export { type PredictionBody, pairRows, rowId } from "./model.js";
export { mapRequest, mapResponse, type RequestPart, type ResponsePart } from "./protocol.js";
export { createPayloadLogService, type PayloadLogService, type Receipt } from "./service.js";
