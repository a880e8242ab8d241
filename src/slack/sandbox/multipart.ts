/** One part of a multipart/form-data body. */
export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

function headerParam(headers: string, param: string): string | undefined {
  const match = new RegExp(`${param}="([^"]*)"`, "i").exec(headers);
  return match?.[1];
}

/** Splits a multipart/form-data body into its parts; throws when the content type has no boundary. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundaryText = match?.[1] ?? match?.[2];
  if (!boundaryText) throw new Error("multipart body without a boundary");
  const boundary = Buffer.from(`--${boundaryText.trim()}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(boundary);
  while (start !== -1) {
    const afterBoundary = start + boundary.length;
    if (body.subarray(afterBoundary, afterBoundary + 2).toString() === "--") break;
    const headerStart = afterBoundary + 2;
    const headerEnd = body.indexOf("\r\n\r\n", headerStart);
    if (headerEnd === -1) break;
    const next = body.indexOf(boundary, headerEnd + 4);
    if (next === -1) break;
    const headers = body.subarray(headerStart, headerEnd).toString("utf8");
    const part: MultipartPart = {
      name: headerParam(headers, "name") ?? "",
      data: body.subarray(headerEnd + 4, Math.max(headerEnd + 4, next - 2)),
    };
    const filename = headerParam(headers, "filename");
    if (filename !== undefined) part.filename = filename;
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    if (type) part.contentType = type.trim();
    parts.push(part);
    start = next;
  }
  return parts;
}
