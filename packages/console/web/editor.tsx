/** CodeMirror 6 as a Preact component: an uncontrolled editor whose text is read through onChange. */
import { useEffect, useRef } from 'preact/hooks';
import { basicSetup, EditorView } from 'codemirror';
import { Compartment, EditorState } from '@codemirror/state';
import { javascript } from '@codemirror/lang-javascript';
import { python } from '@codemirror/lang-python';

const languageFor = (kind: string) => (kind.startsWith('python') ? python() : javascript());

export function CodeEditor(props: { value: string; reset: number; kind: string; onChange: (code: string) => void; labelledBy: string }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const language = useRef(new Compartment());
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          basicSetup,
          language.current.of(languageFor(props.kind)),
          // Tab is left to the browser (focus moves on), as basicSetup does; Escape then Tab also leaves.
          EditorView.contentAttributes.of({ 'aria-labelledby': props.labelledBy, 'aria-multiline': 'true' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current?.destroy();
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: language.current.reconfigure(languageFor(props.kind)) });
  }, [props.kind]);

  // The editor owns its text while the user types; the parent replaces it only by bumping `reset`
  // (another action loaded, a sample swapped). Comparing against `value` on every render instead lets
  // a render that is one keystroke behind undo the keystroke, and the two then chase each other.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) return void (first.current = false);
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.reset]);

  return <div class="editor" ref={host} />;
}
