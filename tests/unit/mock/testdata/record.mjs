// Records reference request/response pairs from a running mock-llm.mjs.
const port = process.argv[2];
const weatherTools = [{type:"function",function:{name:"get_weather",description:"weather",parameters:{type:"object",properties:{city:{type:"string"}}}}},{type:"function",function:{name:"other"}}];
const toolConv = [
  {role:"user",content:"what's the weather? delay=3"},
  {role:"assistant",content:null,tool_calls:[{id:"call_x",type:"function",function:{name:"get_weather",arguments:"{\"city\":\"paris\"}"}}]},
  {role:"tool",tool_call_id:"call_x",content:"sunny in paris"}];
const cases = [
  ["text_plain", {model:"mock",messages:[{role:"system",content:"be nice"},{role:"user",content:"hello there"}]}],
  ["text_stream_usage", {model:"mock",stream:true,stream_options:{include_usage:true},messages:[{role:"system",content:"be nice"},{role:"user",content:"hello there"}]}],
  ["text_short_stream", {stream:true,messages:[{role:"user",content:"hi"}]}],
  ["weather_tool", {model:"gpt-x",messages:[{role:"user",content:"What's the WEATHER like?"}],tools:weatherTools}],
  ["weather_tool_stream", {model:"gpt-x",stream:true,stream_options:{include_usage:true},messages:[{role:"user",content:"What's the WEATHER like?"}],tools:weatherTools}],
  ["weather_no_tools", {messages:[{role:"user",content:"weather?"}]}],
  ["weatherman_not_word", {messages:[{role:"user",content:"the weatherman said"}],tools:weatherTools}],
  ["tool_result", {model:"mock",messages:toolConv,tools:weatherTools}],
  ["tool_result_stream", {model:"mock",stream:true,messages:toolConv,tools:weatherTools}],
  ["parts_unicode_stream", {stream:true,stream_options:{include_usage:true},messages:[{role:"human",content:[{type:"text",text:"héllo 🌍🌍 "},"wörld ",{type:"image_url",image_url:{url:"x"}},{type:"text",text:"\"q\" \\ / \n\t\u0001 \u2028 end"}]}]}],
  ["numbers_keys", {messages:[{role:"user",content:"n",score:1.5,big:1e21,small:1e-7,neg:-0.0,int:12345678901234567890,b:true,"1":"a","0":"z"}]}],
  ["no_user", {messages:[{role:"system",content:"only system"}]}],
  ["empty_messages_stream", {stream:true,messages:[]}],
  ["content_types", {messages:[{role:"user",content:{text:"objtext"}},{role:"assistant",content:"x"},{role:"user",content:42}]}],
];
const raw = [
  ["raw_numbers", '{"messages":[{"role":"user","content":"n","a":1.50,"b":1E21,"c":12345678901234567890,"d":-0,"e":0.000001,"f":1e-7,"h":5e-324,"i":1.7976931348623157e308,"j":100,"k":1.0,"l":0.1,"m":-2.5e-10,"2":"x","10":"y","01":"z"}]}'],
  ["raw_duplicate_keys", '{"messages":[{"role":"user","content":"first","content":"second"}]}'],
  ["raw_escapes", '{"stream":true,"messages":[{"role":"user","content":"a\\u00e9\\ud83d\\ude00\\u007f\\u001f<>&\\u2029"}]}'],
];
const out = [];
for (const [name, req] of [...cases, ...raw]) {
  const body = typeof req === "string" ? req : JSON.stringify(req);
  const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {method:"POST", headers:{"content-type":"application/json"}, body});
  out.push({name, request: body, content_type: r.headers.get("content-type"), response: await r.text()});
}
const w = await fetch(`http://127.0.0.1:${port}/tools/get_weather`, {method:"POST", body: JSON.stringify({city:"Oslo"})});
out.push({name:"get_weather", request: JSON.stringify({city:"Oslo"}), content_type: w.headers.get("content-type"), response: await w.text()});
const m = await fetch(`http://127.0.0.1:${port}/v1/models`);
out.push({name:"models", request:"", content_type: m.headers.get("content-type"), response: await m.text()});
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
