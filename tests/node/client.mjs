// Node's official Gemini SDK (@google/genai) driven by tests/test_node_client.py, in its default configuration.
//
// Input: one JSON instruction, as the first argument or on stdin:
//   {"calls": [{"kind": "generate" | "stream" | "count_tokens" | "list_models" | "get_model",
//               "model": "...", "prompt": "...", "modalities": ["IMAGE"], "aspect_ratio": "16:9", "image_size": "2K",
//               "base_url": "http://127.0.0.1:PORT",  // optional: new GoogleGenAI({httpOptions: {baseUrl}}); without
//               "api_key": "...",                     // it the SDK reads GOOGLE_GEMINI_BASE_URL (and GEMINI_API_KEY /
//                                                     // GOOGLE_API_KEY without api_key), as an app would
//               "vertexai": true}]}                   // optional: Vertex AI in express mode (with api_key)
// Nothing else is set: no apiVersion, no headers, no retry options, no timeout; the SDK's defaults decide.
// Output: one JSON line per call, in order, with what the client saw:
//   success: {"ok": true, "kind", "finish_reason", "finish_message", "text", "images": [{"mime_type", "b64_length",
//             "data"}], "chunks" (stream), "total_tokens" (count_tokens), "models" (names; list_models), "name"}
//   failure: {"ok": false, "kind", "error_class", "error_name", "status" (HTTP code the SDK reports),
//             "message" (the SDK's), "body" (the message parsed as JSON when it is), "cause"}
// Exit code 0 whatever the calls did; 2 for an unreadable instruction.
import { GoogleGenAI } from '@google/genai';
import { readFileSync } from 'node:fs';

const MAX_PAGES = 100; // a pager that never ends is reported, not followed for ever

function readInstruction() {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  return JSON.parse(text);
}

function client(call) {
  const options = {};
  if (call.vertexai) options.vertexai = true; // Vertex AI in express mode (with api_key): no project, no ADC
  if (call.api_key !== undefined) options.apiKey = call.api_key;
  if (call.base_url !== undefined) options.httpOptions = { baseUrl: call.base_url };
  return new GoogleGenAI(options);
}

function config(call) {
  const result = {};
  if (call.modalities) result.responseModalities = call.modalities;
  const imageConfig = {};
  if (call.aspect_ratio) imageConfig.aspectRatio = call.aspect_ratio;
  if (call.image_size) imageConfig.imageSize = call.image_size;
  if (Object.keys(imageConfig).length) result.imageConfig = imageConfig;
  return result;
}

function parts(response) {
  return response?.candidates?.[0]?.content?.parts ?? [];
}

function seen(responses) {
  const images = [];
  const texts = [];
  let finishReason = null;
  let finishMessage = null;
  for (const response of responses) {
    for (const part of parts(response)) {
      if (part.inlineData?.data) {
        images.push({
          mime_type: part.inlineData.mimeType ?? null,
          b64_length: part.inlineData.data.length,
          data: part.inlineData.data,
        });
      } else if (typeof part.text === 'string' && !part.thought) {
        texts.push(part.text);
      }
    }
    const candidate = response?.candidates?.[0];
    if (candidate?.finishReason) finishReason = candidate.finishReason;
    if (candidate?.finishMessage) finishMessage = candidate.finishMessage;
  }
  return {
    finish_reason: finishReason,
    finish_message: finishMessage,
    text: texts.join(''),
    images,
    usage: responses.at(-1)?.usageMetadata ?? null,
  };
}

async function run(call) {
  const ai = client(call);
  const request = { model: call.model, contents: call.prompt ?? 'a banana', config: config(call) };
  switch (call.kind) {
    case 'generate':
      return seen([await ai.models.generateContent(request)]);
    case 'stream': {
      const chunks = [];
      for await (const chunk of await ai.models.generateContentStream(request)) chunks.push(chunk);
      return { ...seen(chunks), chunks: chunks.length };
    }
    case 'count_tokens': {
      const answer = await ai.models.countTokens({ model: call.model, contents: call.prompt ?? 'a banana' });
      return { total_tokens: answer.totalTokens ?? null };
    }
    case 'list_models': {
      const pager = await ai.models.list(call.page_size ? { config: { pageSize: call.page_size } } : {});
      const models = [];
      let pages = 1;
      for (;;) {
        for (const model of pager.page) models.push(model.name);
        if (!pager.hasNextPage()) break;
        if (++pages > MAX_PAGES) return { models, pages, unfinished: true };
        await pager.nextPage();
      }
      return { models, pages };
    }
    case 'get_model': {
      const model = await ai.models.get({ model: call.model });
      return { name: model.name, supported_actions: model.supportedActions ?? null };
    }
    default:
      throw new Error(`unknown call kind ${JSON.stringify(call.kind)}`);
  }
}

function failure(error) {
  let body = null;
  try {
    body = JSON.parse(error?.message);
  } catch {
    // not an ApiError's JSON: the message is reported as it is
  }
  return {
    error_class: error?.constructor?.name ?? typeof error,
    error_name: error?.name ?? null,
    status: typeof error?.status === 'number' ? error.status : null,
    message: String(error?.message ?? error),
    body,
    cause: error?.cause ? String(error.cause?.message ?? error.cause) : null,
  };
}

async function main() {
  let instruction;
  try {
    instruction = readInstruction();
  } catch (error) {
    process.stderr.write(`client.mjs: unreadable instruction: ${error}\n`);
    process.exit(2);
  }
  for (const call of instruction.calls ?? []) {
    let line;
    try {
      line = { ok: true, kind: call.kind, ...(await run(call)) };
    } catch (error) {
      line = { ok: false, kind: call.kind, ...failure(error) };
    }
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

await main();
