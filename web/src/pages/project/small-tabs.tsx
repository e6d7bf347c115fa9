import { AuditLogTable } from '../shared/audit-log-table';
import { LabelsEditor } from '../shared/labels-editor';
import { useProjectContext } from './project-page';

export function LabelsTab() {
  const { project, can } = useProjectContext();
  return <LabelsEditor scope="p" projectId={project.project_id} editable={can('label', 'create')} />;
}

export function LogsTab() {
  const { project } = useProjectContext();
  return <AuditLogTable projectName={project.name} />;
}
