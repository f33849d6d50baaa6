/** Entry: styles, services, session restore (API token of this tab or refresh cookie), render. */
import { createSignal } from 'solid-js';
import { render } from 'solid-js/web';
import { App, createServices } from './app.jsx';
import './styles/theme.css';
import './styles/layout.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

render(() => {
  const services = createServices();
  const [ready, setReady] = createSignal(false);
  void services.session.restore().finally(() => setReady(true));
  return <App services={services} ready={ready} />;
}, root);
