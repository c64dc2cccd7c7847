// The built-in agent's knobs through the official JS SDK (docs/graphs.md "Assistants configure
// the graph"): an assistant's config.configurable.system_prompt is the prompt the model sees
// (the mock's `system?` probe answers with it), a run's configurable overrides it, a wrong type
// is a 422 naming the knob, and getSchemas shows the knobs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExpectHttpError, IsReferenceServer, NewClient } from "../lib/harness.mjs";

const client = NewClient();
const kIsReference = await IsReferenceServer();
const kTodo = kIsReference && "agentd's built-in agent knobs";

function LastText(values) {
  const messages = values.messages;
  return messages[messages.length - 1].content;
}

describe("built-in agent knobs", () => {
  test("an assistant's system_prompt reaches the model; a run's configurable overrides it", { todo: kTodo },
    async () => {
      const assistant = await client.assistants.create({
        graphId: "agent", config: { configurable: { system_prompt: "Be terse.", user_id: "u-7" } },
      });
      assert.deepEqual(assistant.config.configurable, { system_prompt: "Be terse.", user_id: "u-7" });
      const input = { messages: [{ role: "human", content: "system?" }] };
      const plain = await client.runs.wait(null, assistant.assistant_id, { input });
      assert.equal(LastText(plain), "system: Be terse.");
      const overridden = await client.runs.wait(null, assistant.assistant_id, {
        input, config: { configurable: { system_prompt: "Per run." } },
      });
      assert.equal(LastText(overridden), "system: Per run.");
    });

  test("a knob of the wrong type is a 422 naming it", { todo: kTodo }, async () => {
    await ExpectHttpError(
      client.assistants.create({ graphId: "agent", config: { configurable: { system_prompt: 3 } } }),
      422, /config\.configurable\.system_prompt/);
  });

  test("getSchemas shows model and system_prompt in config_schema and context_schema", { todo: kTodo },
    async () => {
      const schemas = await client.assistants.getSchemas("agent");
      for (const key of ["config_schema", "context_schema"]) {
        assert.equal(schemas[key].properties.system_prompt.type, "string", key);
        assert.ok(schemas[key].properties.model.enum.includes("mock"), key);
      }
    });
});
