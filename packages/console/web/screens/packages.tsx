/** Packages and bindings: this namespace's and the public whisk.system catalog; bind a public package. */
import { useEffect, useState } from 'preact/hooks';
import { fromKeyValues, parseJsonObject, toKeyValues, type Package } from '../api.js';
import { ConfirmButton, ErrorText, go, Heading, href, Json, useApi } from '../ui.js';

const CATALOG = 'whisk.system';

export function PackagesScreen({ rest }: { rest: string[] }) {
  const [ns, name] = rest;
  if (ns && name) return <PackageDetail key={`${ns}/${name}`} ns={ns} name={name} />;
  return <PackageList />;
}

const isBinding = (p: Package): boolean => Boolean(p.binding && 'name' in p.binding && p.binding.name);

function PackageList() {
  const api = useApi();
  const [own, setOwn] = useState<Package[]>();
  const [catalog, setCatalog] = useState<Package[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.listPackages().then(setOwn, (e: Error) => setError(e.message));
    api.listPackages(CATALOG).then(setCatalog, () => setCatalog([]));
  }, []);
  const table = (list: Package[] | undefined, ns: string, caption: string) =>
    list === undefined ? (
      <p aria-busy="true">Loading…</p>
    ) : list.length === 0 ? (
      <p>None.</p>
    ) : (
      <div class="table-wrap">
        <table>
          <caption class="sr-only">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Public</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.name}>
                <td>
                  <a href={href('packages', ns, p.name)}>{p.name}</a>
                </td>
                <td>{isBinding(p) ? `binding → /${(p.binding as { namespace: string }).namespace}/${(p.binding as { name: string }).name}` : 'package'}</td>
                <td>{p.publish ? 'yes' : 'no'}</td>
                <td>{p.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  return (
    <div>
      <Heading>Packages</Heading>
      <ErrorText error={error} />
      <div class="split">
        <section class="panel" aria-labelledby="own-h">
          <h2 id="own-h">In this namespace</h2>
          {table(own, '_', 'Packages and bindings in this namespace')}
        </section>
        <section class="panel" aria-labelledby="cat-h">
          <h2 id="cat-h">Catalog ({CATALOG})</h2>
          {table(catalog, CATALOG, `Public packages of ${CATALOG}`)}
        </section>
      </div>
    </div>
  );
}

function PackageDetail({ ns, name }: { ns: string; name: string }) {
  const api = useApi();
  const [p, setP] = useState<Package>();
  const [error, setError] = useState<string>();
  const [bindName, setBindName] = useState('');
  const [bindParams, setBindParams] = useState('{}');
  const [bindError, setBindError] = useState<string>();
  useEffect(() => {
    api.getPackage(name, ns).then(setP, (e: Error) => setError(e.message));
  }, [ns, name]);
  const own = ns === '_';
  return (
    <section>
      <div class="bar">
        <Heading>
          Package {ns === '_' ? '' : `/${ns}/`}
          {name}
        </Heading>
        <a href={href('packages')}>All packages</a>
      </div>
      <ErrorText error={error} />
      {!p ? (
        !error ? <p aria-busy="true">Loading…</p> : null
      ) : (
        <div class="split">
          <div class="panel">
            {isBinding(p) ? (
              <p>
                A binding of{' '}
                <a href={href('packages', (p.binding as { namespace: string }).namespace, (p.binding as { name: string }).name)}>
                  /{(p.binding as { namespace: string }).namespace}/{(p.binding as { name: string }).name}
                </a>
                .
              </p>
            ) : null}
            <h2>Actions</h2>
            {(p.actions ?? []).length === 0 ? (
              <p>None.</p>
            ) : (
              <ul>
                {(p.actions ?? []).map((a) => (
                  <li key={a.name}>
                    {own ? <a href={href('actions', `${name}/${a.name}`)}>{a.name}</a> : <code>{`/${ns}/${name}/${a.name}`}</code>}
                    {a.annotations?.find((x) => x.key === 'description') ? ` — ${String(a.annotations.find((x) => x.key === 'description')!.value)}` : ''}
                  </li>
                ))}
              </ul>
            )}
            <h2>Parameters</h2>
            <Json value={fromKeyValues(p.parameters)} label="Parameters" />
            {own ? (
              <ConfirmButton
                label="Delete package"
                question={`Delete the package ${name}? It must have no actions left.`}
                confirm="Delete package"
                onConfirm={async () => {
                  await api.deletePackage(name);
                  go('packages');
                }}
              />
            ) : null}
          </div>
          {!own && !isBinding(p) ? (
            <form
              class="panel"
              aria-labelledby="bind-h"
              onSubmit={async (e) => {
                e.preventDefault();
                const params = parseJsonObject(bindParams, 'Parameters');
                if ('error' in params) return setBindError(params.error);
                if (!bindName.trim()) return setBindError('Name the binding.');
                try {
                  await api.putPackage(bindName.trim(), { binding: { namespace: ns, name }, parameters: toKeyValues(params.value) });
                  go('packages', '_', bindName.trim());
                } catch (err) {
                  setBindError((err as Error).message);
                }
              }}
            >
              <h2 id="bind-h">Bind into this namespace</h2>
              <label>
                Binding name
                <input name="binding-name" value={bindName} onInput={(e) => setBindName(e.currentTarget.value)} />
              </label>
              <label>
                Parameters for every action (JSON object)
                <textarea name="binding-params" rows={3} value={bindParams} onInput={(e) => setBindParams(e.currentTarget.value)} />
              </label>
              <ErrorText error={bindError} />
              <button type="submit">Create binding</button>
            </form>
          ) : null}
        </div>
      )}
    </section>
  );
}
