import { useRef, useState } from 'react';
import { useSystemInfo } from '../../api/session';
import { CopyLine } from '../../components/ui';
import { useDismiss } from '../../components/use-dismiss';

/** The registry host people push to: the configured external URL's host, else the one in the address bar. */
export function useRegistryHost(): string {
  const info = useSystemInfo().data;
  const configured = info?.registry_url || info?.external_url;
  if (configured) return configured.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return window.location.host;
}

/** Ready-to-copy docker, podman and helm lines for pushing into this project. */
export function PushCommandMenu({ projectName }: { projectName: string }) {
  const [open, setOpen] = useState(false);
  const host = useRegistryHost();
  const ref = useRef<HTMLDivElement>(null);
  useDismiss(open, () => setOpen(false), ref);
  const target = `${host}/${projectName}/REPOSITORY[:TAG]`;
  return (
    <div className="menu" ref={ref}>
      <button type="button" className="btn" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        PUSH COMMAND ▾
      </button>
      {open ? (
        <div className="menu-list push-commands" role="dialog" aria-label="Push commands">
          <h3>Docker</h3>
          <p className="muted">Tag an image for this project:</p>
          <CopyLine text={`docker tag SOURCE_IMAGE[:TAG] ${target}`} testId="docker-tag" />
          <p className="muted">Push an image to this project:</p>
          <CopyLine text={`docker push ${target}`} testId="docker-push" />
          <h3>Podman</h3>
          <CopyLine text={`podman push IMAGE_ID ${target}`} testId="podman-push" />
          <h3>Helm</h3>
          <CopyLine text={`helm push CHART_PACKAGE oci://${host}/${projectName}`} testId="helm-push" />
        </div>
      ) : null}
    </div>
  );
}
