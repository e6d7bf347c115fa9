import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. <Link to="/harbor/projects">Go to projects</Link>.
      </p>
    </div>
  );
}
