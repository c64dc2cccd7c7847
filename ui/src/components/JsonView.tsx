// JSON shown as indented text, long values folded behind "show all".
import { useState } from "react";

const FOLD_AT = 1200;

export function JsonView(props: { value: unknown }) {
  const text = props.value === undefined ? "undefined" : JSON.stringify(props.value, null, 2);
  const [all, setAll] = useState(false);
  const long = text.length > FOLD_AT;
  return (
    <pre className="json">
      {long && !all ? text.slice(0, FOLD_AT) + "…" : text}
      {long && (
        <button className="link small" onClick={() => setAll(!all)}>
          {all ? " show less" : ` show all (${text.length} chars)`}
        </button>
      )}
    </pre>
  );
}
